from django.urls import path

from relief import views

app_name = "relief"
urlpatterns = [
    path("inbox/", views.inbox, name="inbox"),
    path("cases/", views.case_list, name="case_list"),
    path("cases/export/", views.case_export, name="case_export"),
    path("report/", views.case_report, name="case_report"),
    path("cases/<int:pk>/", views.case_detail, name="case_detail"),
    path("cases/<int:pk>/<slug:action>/", views.case_action, name="case_action"),
    path("referrals/", views.referral_list, name="referral_list"),
    path("referrals/export/", views.referral_export, name="referral_export"),
    path("referrals/<int:pk>/<slug:action>/", views.referral_action, name="referral_action"),
    path("from-visit/<int:visit_pk>/", views.case_from_visit, name="case_from_visit"),
    path("from-supervision/<int:supervision_pk>/", views.case_from_supervision, name="case_from_supervision"),
    path("risk/due/", views.reassessment_due, name="reassessment_due"),
    path("risk/<int:elder_pk>/", views.assess, name="assess"),
]
