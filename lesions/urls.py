from django.urls import path

from lesions import views

app_name = "lesions"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("new/", views.lesion_create, name="create"),
    path("capture/", views.capture, name="capture"),  # the phone flow: camera, lesion, upload, status
    path("<int:lesion_id>/", views.lesion_detail, name="detail"),
    path("<int:lesion_id>/timeline/", views.lesion_timeline, name="timeline"),
    path("<int:lesion_id>/compare/", views.lesion_compare, name="compare"),
    path("<int:lesion_id>/edit/", views.lesion_edit, name="edit"),
    path("<int:lesion_id>/delete/", views.lesion_delete, name="delete"),
    path("<int:lesion_id>/photos/", views.photo_upload, name="photo-upload"),
    path("photos/<int:photo_id>/", views.photo_detail, name="photo"),
    path("photos/<int:photo_id>/photo-type/", views.photo_type, name="photo-type"),
    path("photos/<int:photo_id>/scale/", views.photo_scale, name="photo-scale"),  # two points marked by hand
    path("photos/<int:photo_id>/coin/", views.photo_coin, name="photo-coin"),
    path("photos/<int:photo_id>/device/", views.photo_device, name="photo-device"),
    path("photos/<int:photo_id>/scale/clear/", views.photo_scale_clear, name="photo-scale-clear"),
    path("dermatoscopes/", views.dermatoscopes, name="dermatoscopes"),
    path("photos/<int:photo_id>/delete/", views.photo_delete, name="photo-delete"),
    path("photos/<int:photo_id>/image/", views.photo_image, name="photo-image"),
    path("photos/<int:photo_id>/thumbnail/", views.photo_thumbnail, name="photo-thumbnail"),
    path("photos/<int:photo_id>/heatmap/", views.photo_heatmap, name="photo-heatmap"),
    # Re-check reminders.
    path("<int:lesion_id>/recheck/", views.lesion_recheck, name="recheck"),
    path("reminders/unsubscribe/<str:token>/", views.reminders_unsubscribe, name="reminders-unsubscribe"),
]
