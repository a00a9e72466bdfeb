from django.urls import path

from services import views

app_name = "services"
urlpatterns = [
    path("catalogue/", views.catalogue, name="catalogue"),
    path("catalogue/<str:village_code>/print/", views.catalogue_print, name="catalogue_print"),
    path("pairings/", views.pairings, name="pairings"),
    path("pairings/export/", views.pairings_export, name="pairings_export"),
    path("hours/", views.hours, name="hours"),
    path("hours/export/", views.hours_export, name="hours_export"),
    path("records/group/", views.group_entry, name="group_entry"),
    path("requests/", views.service_requests, name="requests"),
    path("requests/from-needs/", views.requests_from_needs, name="requests_from_needs"),
    path("requests/<int:pk>/", views.service_request, name="request"),
    path("health/", views.clinic_worklist, name="clinic_worklist"),
    path("health/check/<int:elder_pk>/", views.health_check_add, name="health_check_add"),
    path("health/export/", views.health_check_export, name="health_check_export"),
]
