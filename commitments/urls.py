from django.urls import path

from . import views

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("commitments/<slug:reference>/", views.commitment_detail, name="commitment_detail"),
    path("statements/<slug:slug>/", views.statement_detail, name="statement_detail"),
    path("staff/", views.staff_home, name="staff_home"),
    path(
        "staff/commitments/<slug:reference>/follow-ups/",
        views.staff_record_follow_up,
        name="staff_record_follow_up",
    ),
]
