"""Writes on accounts."""

from django.contrib.auth.password_validation import validate_password
from django.db import transaction

from accounts.models import User


def user_create(*, email: str, password: str, display_name: str = "") -> User:
    """Create a patient account; raises django ValidationError for a weak password."""
    user = User(email=User.objects.normalize_email(email).lower(), display_name=display_name)
    user.full_clean(exclude=["password"])  # unique email, valid format
    validate_password(password, user=user)
    user.set_password(password)
    user.save()
    return user


def user_update(*, user: User, **fields) -> User:
    """Change the account's display name, year of birth or sex; raises django ValidationError."""
    allowed = {"display_name", "birth_year", "sex"}
    unknown = set(fields) - allowed
    if unknown:
        raise TypeError(f"cannot update {', '.join(sorted(unknown))}")
    for key, value in fields.items():
        setattr(user, key, value)
    user.full_clean(exclude=["password"])
    # Only what changed: a concurrent save of the notification settings is not undone.
    user.save(update_fields=list(fields))
    return user


@transaction.atomic
def user_delete(*, user: User) -> None:
    """Delete the account with every lesion, photo and analysis.

    The image files leave storage when the transaction commits (see lesions.signals), so a
    failed delete keeps both the rows and the files.
    """
    user.delete()
