"""Evaluation: the scripts that judge the served model and write `reports/`.

External sets source by source (`external`), the not-assessable checks (`not_assessable`), speed and
memory (`bench`), the change-detection study (`change_study`), and the CLI that scores a folder of
photos (`predict`). It stands beside the top of the layers: it may import `inference`, `training`
and `measurement`; nothing imports it, so the serving path carries none of it.
"""
