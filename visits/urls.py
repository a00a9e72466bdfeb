from django.urls import path

from visits import views

app_name = "visits"
urlpatterns = [
    path("today/", views.today, name="today"),
    path("elder/<int:elder_pk>/record/", views.record, name="record"),
    path("elder/<int:elder_pk>/", views.elder_visits, name="elder_visits"),
    path("visit/<int:pk>/", views.visit_detail, name="visit"),
    path("visit/<int:pk>/edit/", views.edit, name="edit"),
    path("visit/<int:pk>/photo/", views.photo, name="photo"),
    path("overview/", views.overview, name="overview"),
    path("policy/", views.policy, name="policy"),
    path("reassign/", views.reassign, name="reassign"),
    path("followups/", views.followups, name="followups"),
    path("followups/<int:pk>/", views.followup, name="followup"),
]
