from django.urls import path

from oversight import views

app_name = "oversight"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("export/", views.table_export, name="table_export"),
    path("report/", views.report, name="report"),
    path("report/export/", views.report_export, name="report_export"),
    path("rows/<slug:name>/", views.metric_rows, name="rows"),
    path("rows/<slug:name>/export/", views.metric_rows_export, name="rows_export"),
]
