"""The census import's pages: the list and upload, the template, one import's preview, progress,
confirm and cancel, and its rejected-rows workbook (views.py)."""

from django.urls import path

from . import views

app_name = "census"

urlpatterns = [
    path("", views.imports, name="imports"),
    path("template/", views.template_download, name="template"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/progress/", views.progress, name="progress"),
    path("<int:pk>/confirm/", views.confirm, name="confirm"),
    path("<int:pk>/cancel/", views.cancel, name="cancel"),
    path("<int:pk>/rejected/", views.rejected_download, name="rejected"),
]
