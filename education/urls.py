from django.urls import path

from education import views

app_name = "education"
urlpatterns = [
    path("", views.index, name="index"),
    path("guides/<slug:slug>/", views.guide_detail, name="guide"),
    path("images/<int:image_id>/", views.example_image, name="image"),
    path("size/", views.size_guide, name="photo-size"),  # how to photograph a mole with a coin or card
    # Before the condition pattern, which would otherwise take "model" for a class code.
    path("model/", views.model_card, name="model"),
    path("<slug:code>/", views.condition_detail, name="condition"),
]
