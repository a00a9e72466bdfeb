"""The authentication backend: Django's, reading what every page needs of the user in one query."""

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend


class UserBackend(ModelBackend):
    """Django's ModelBackend, except that the user of a session comes with their area and
    department: every page scopes its data by them (and shows the area's name), which was one
    more query per request."""

    def get_user(self, user_id):
        model = get_user_model()
        try:
            user = model._default_manager.select_related("area", "department").get(pk=user_id)
        except model.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None
