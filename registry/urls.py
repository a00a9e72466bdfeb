from django.urls import path

from registry import views

app_name = "registry"
urlpatterns = [
    path("elders/", views.elder_list, name="elders"),
    path("elders/add/", views.elder_add, name="elder_add"),
    path("elders/<int:pk>/", views.elder_detail, name="elder"),
    path("elders/<int:pk>/edit/", views.elder_edit, name="elder_edit"),
    path("elders/<int:pk>/id-number/", views.elder_id_number, name="elder_id_number"),
    path("elders/<int:pk>/status/", views.elder_status, name="elder_status"),
    path("elders/<int:pk>/guardians/add/", views.guardian_add, name="guardian_add"),
    path("elders/<int:pk>/contacts/add/", views.contact_add, name="contact_add"),
    path("elders/<int:pk>/duties/add/", views.duty_add, name="duty_add"),
    path("elders/<int:pk>/supervisions/add/", views.supervision_add, name="supervision_add"),
    path("elders/<int:pk>/agreements/add/", views.agreement_add, name="agreement_add"),
    path("agreements/<int:pk>/document/", views.agreement_document, name="agreement_document"),
    path("alerts/", views.alerts, name="alerts"),
    path("call/<str:kind>/<int:pk>/<int:index>/", views.call, name="call"),
]
