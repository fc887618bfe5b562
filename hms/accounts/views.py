"""Sign-in, tokens and the current session: /api/auth/... (sign-up and /auth/me are the directory's: they
answer with a person's record)."""

from __future__ import annotations

from flask_jwt_extended import current_user, get_jwt, jwt_required
from flask_smorest import Blueprint

from hms.accounts import service
from hms.accounts.schemas import (
    AccessTokenRead,
    ChangePasswordArgs,
    LoginArgs,
    LogoutArgs,
    LogoutRead,
    SignInLocksRead,
    TokensRead,
)
from hms.common.api import documents_errors
from hms.common.auth import client_ip, login_required, roles_required
from hms.common.security import setting_limit
from hms.extensions import limiter
from hms.models import Role

# The name "accounts" is load-bearing: common.auth.PASSWORD_CHANGE_EXEMPT names these endpoints.
blp = Blueprint("accounts", __name__, url_prefix="/api/auth", description="Sign-in and sessions")


@blp.route("/login", methods=["POST"])
@blp.doc(**documents_errors(401, 403, 429))
@blp.arguments(LoginArgs)
@blp.response(200, TokensRead)
def login(data):
    """Sign in with username or email and password."""
    return service.login(identifier=data["username"], password=data["password"], ip=client_ip())


@blp.route("/refresh", methods=["POST"])
@limiter.limit(setting_limit("rate_limit_refresh"))
@blp.doc(security=[{"bearerAuth": []}], **documents_errors(401, 429))
@jwt_required(refresh=True)
@blp.response(200, AccessTokenRead)
def refresh():
    """A new access token; send the refresh token as the Bearer token."""
    return service.refresh(user=current_user)


@blp.route("/logout", methods=["POST"])
@login_required
@blp.arguments(LogoutArgs)
@blp.response(200, LogoutRead)
def logout(data):
    """Revoke the presented access token (and the refresh token, when given in the body)."""
    service.logout(user=current_user, access_payload=get_jwt(), refresh_token=data.get("refresh_token"))
    return {"message": "Signed out."}


@blp.route("/change-password", methods=["POST"])
@limiter.limit(setting_limit("rate_limit_change_password"))
@blp.doc(**documents_errors(429))
@login_required
@blp.arguments(ChangePasswordArgs)
@blp.response(200, TokensRead)
def change_password(data):
    """Change the password; other sessions end, this one continues with the fresh tokens returned."""
    return service.change_password(
        user=current_user,
        current_password=data["current_password"],
        new_password=data["new_password"],
        ip=client_ip(),
    )


admin_blp = Blueprint("accounts_admin", __name__, url_prefix="/api/admin/users", description="Sign-in locks")


@admin_blp.route("/<int:user_id>/sign-in-locks", methods=["GET"])
@roles_required(Role.ADMIN.value)
@admin_blp.response(200, SignInLocksRead)
def sign_in_locks(user_id: int):
    """Addresses that failed to sign in to this account, and which of them are locked now."""
    return service.sign_in_locks(user_id=user_id)


@admin_blp.route("/<int:user_id>/unlock", methods=["POST"])
@roles_required(Role.ADMIN.value)
@admin_blp.response(200, SignInLocksRead)
def unlock(user_id: int):
    """Lift every sign-in lock of this account (audited)."""
    return service.unlock(user_id=user_id)


blueprints: list[Blueprint] = [blp, admin_blp]
