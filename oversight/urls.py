from django.urls import path

from oversight import followthrough, views

app_name = "oversight"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("export/", views.table_export, name="table_export"),
    path("scorecard/", views.scorecard, name="scorecard"),
    path("high-risk/", followthrough.high_risk, name="high_risk"),
    path("scorecard/versions/", views.scorecard_versions, name="scorecard_versions"),
    path("scorecard/<str:code>/", views.scorecard_area, name="scorecard_area"),
    path("circulars/", views.circulars, name="circulars"),
    path("circulars/<int:pk>/", views.circular, name="circular"),
    path("circulars/<int:pk>/docx/", views.circular_docx, name="circular_docx"),
    path("report/", views.report, name="report"),
    path("report/export/", views.report_export, name="report_export"),
    path("rows/<slug:name>/", views.metric_rows, name="rows"),
    path("rows/<slug:name>/export/", views.metric_rows_export, name="rows_export"),
]
