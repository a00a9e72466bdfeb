from django.urls import path

from oversight import views

app_name = "oversight"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("rows/<slug:name>/", views.metric_rows, name="rows"),
]
