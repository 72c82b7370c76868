"""Web pages for accounts: sign-in, tokens, staff, issuing a handover, claiming it, officers' list."""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from limits import parse as parse_limit

from ..errors import DomainError, Gone
from ..extensions import db, limiter
from ..web import form_error, signed_in
from .home import home_url, nav_links
from .forms import ClaimForm, ConfirmForm, HandoverForm, InvitationForm, LoginForm, StaffForm, TokenForm
from .models import Role, User
from .permissions import Action, allowed_actions
from . import invitations, services

# cli_group=None: the commands are top-level (`flask demo-accounts`, `flask users create`).
blp = Blueprint("accounts", __name__, cli_group=None)

LOGIN_LIMIT = "5/minute"
CLAIM_LIMIT = "10/minute;30/hour"
STATUS_PAGE_SIZE = 50


@blp.record_once
def _configure_login(state: Any) -> None:
    manager = state.app.login_manager
    manager.login_view = "accounts.login"
    manager.session_protection = "strong"
    manager.unauthorized_handler(_unauthorized)


def _unauthorized() -> Response:
    if request.path.startswith("/api/"):
        body = {"code": "unauthorized", "status": 401, "errors": {},
                "message": _("Vui lòng đăng nhập hoặc gửi mã truy cập (Bearer) hợp lệ.")}
        response = jsonify(body)
        response.status_code = 401
        return response
    return redirect(url_for("accounts.login", next=request.full_path.rstrip("?")))


@blp.teardown_app_request
def _forget_request_user(_exc: BaseException | None) -> None:
    """Flask-Login caches the caller in `g`; drop it with the request so nothing outlives it
    (the test client shares one app context between requests)."""
    user = g.pop("_login_user", None)
    if isinstance(user, User):
        user.token_producer_id = None


def _me() -> User:
    return current_user._get_current_object()  # type: ignore[no-any-return]


def _safe_next(target: str | None) -> str | None:
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return None


def _home_for(user: User) -> str:
    return home_url(user)


# ------------------------------------------------------------------------ sign-in

def _login_keys(login: str) -> list[tuple[Any, str]]:
    """Failures are counted per client address and per account: the account the login
    resolves to, so that `0926 606 409` and `0926-606-409` are attempts at one account."""
    item = parse_limit(LOGIN_LIMIT)
    user = services.find_user_by_login(login or "")
    account = f"user/{user.id}" if user is not None else services.canonical_login(login)[:254]
    return [(item, f"login/ip/{request.remote_addr or '-'}"),
            (item, f"login/account/{account}")]


def _login_locked(login: str) -> int | None:
    """Seconds to wait when this address or this account has failed too often, else None."""
    if not limiter.enabled:
        return None
    for item, key in _login_keys(login):
        if not limiter.limiter.test(item, key):
            reset_at = limiter.limiter.get_window_stats(item, key).reset_time
            import time

            return max(1, int(reset_at - time.time()) + 1)
    return None


def _count_failed_login(login: str) -> None:
    if limiter.enabled:
        for item, key in _login_keys(login):
            limiter.limiter.hit(item, key)


@blp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(_home_for(_me()))
    form = LoginForm()
    if request.method == "GET":
        form.next.data = _safe_next(request.args.get("next")) or ""
    error = None
    if form.is_submitted():
        wait = _login_locked(form.login.data or "")
        if wait is not None:
            error = _("Bạn đã đăng nhập sai quá nhiều lần. Tài khoản tạm khóa, vui lòng thử lại "
                      "sau %(seconds)d giây.", seconds=wait)
            response = Response(render_template("accounts/login.html", form=form, error=error), 429)
            response.headers["Retry-After"] = str(wait)
            return response
        if form.validate():
            try:
                user = services.authenticate(form.login.data, form.password.data)
            except DomainError as exc:
                _count_failed_login(form.login.data)
                error = exc.message
                # 403 for a locked (inactive) account, 400 for wrong credentials.
                status = 403 if exc.status == 403 else 400
            else:
                login_user(user)
                return redirect(_safe_next(form.next.data) or _home_for(user))
    if error is None:
        status = 400 if form.errors else 200
    return render_template("accounts/login.html", form=form, error=error), status


@blp.post("/logout")
def logout():
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    logout_user()
    flash(_("Bạn đã đăng xuất."), "ok")
    return redirect(url_for("accounts.login"))


@blp.get("/account")
@signed_in()
def account():
    user = _me()
    producers = services.producers_of(user)
    rows = [(p, allowed_actions(user, p)) for p in producers]
    return render_template("accounts/account.html", user=user, rows=rows, Action=Action, Role=Role)


# ------------------------------------------------------------------------- tokens

def _token_form(user: User) -> TokenForm:
    form = TokenForm()
    choices = [(0, _("Mọi chủ thể tôi được phép"))]
    choices += [(p.id, p.name) for p in services.producers_of(user)]
    form.producer_id.choices = choices
    return form


@blp.route("/account/tokens", methods=["GET", "POST"])
@signed_in()
def tokens():
    user = _me()
    form = _token_form(user)
    new_secret = None
    status = 200
    if form.validate_on_submit():
        try:
            producer = services.get_producer(form.producer_id.data) if form.producer_id.data else None
            _token, new_secret = services.create_token(user, form.name.data, form.expires_in_days.data, producer)
        except DomainError as exc:
            form_error(form, exc)
            status = exc.status
        else:
            form = _token_form(user)
            form.name.data = ""
    elif form.is_submitted():
        status = 400
    return render_template("accounts/tokens.html", form=form, tokens=services.list_tokens(user),
                           new_secret=new_secret, confirm=ConfirmForm(), state=services.token_state), status


@blp.post("/account/tokens/<int:token_id>/revoke")
@signed_in()
def revoke_token(token_id: int):
    if not ConfirmForm().validate_on_submit():
        abort(400)
    services.revoke_token(_me(), token_id)
    flash(_("Đã thu hồi mã truy cập."), "ok")
    return redirect(url_for("accounts.tokens"))


# -------------------------------------------------------------------------- staff

@blp.route("/account/producers/<int:producer_id>/staff", methods=["GET", "POST"])
@signed_in()
def staff(producer_id: int):
    user = _me()
    producer = services.get_producer(producer_id)
    members = services.members_of(user, producer)
    form = StaffForm()
    can_manage = Action.MANAGE_STAFF in allowed_actions(user, producer)
    status, new_link = 200, None
    if form.validate_on_submit():
        try:
            invitation, secret = invitations.invite_staff(
                user, producer, {"email": form.email.data, "full_name": form.full_name.data})
        except DomainError as exc:
            if exc.status == 403:
                raise
            form_error(form, exc)
            status = exc.status
        else:
            # Shown once, on this answer only: the page a reload brings does not repeat it.
            new_link = (invitation, invitations.invitation_url(secret))
            form = StaffForm(formdata=None)
    elif form.is_submitted():
        status = 400
    pending = invitations.invitations_of(user, producer) if can_manage else []
    return render_template("accounts/staff.html", producer=producer, members=members, form=form,
                           confirm=ConfirmForm(), can_manage=can_manage, pending=pending,
                           new_link=new_link), status


@blp.post("/account/producers/<int:producer_id>/staff/invitations/<int:invitation_id>/cancel")
@signed_in()
def cancel_invitation(producer_id: int, invitation_id: int):
    if not ConfirmForm().validate_on_submit():
        abort(400)
    invitations.cancel_invitation(_me(), services.get_producer(producer_id), invitation_id)
    flash(_("Đã hủy lời mời."), "ok")
    return redirect(url_for("accounts.staff", producer_id=producer_id))


@blp.route("/invite/<secret>", methods=["GET", "POST"])
@limiter.shared_limit(CLAIM_LIMIT, scope="claim", methods=["POST"])
def invitation(secret: str):
    """The invitee's page: sign in with the invited address's password, or create the
    account; either way the same form, so the link tells its holder nothing."""
    try:
        found = invitations.open_invitation(secret)
    except Gone as exc:
        return render_template("accounts/claim_gone.html", message=exc.message), 410
    if current_user.is_authenticated:
        logout_user()  # the owner testing the link must not join as themself
    form = InvitationForm()
    if request.method == "GET" and found.full_name:
        form.full_name.data = found.full_name
    status = 200
    if form.validate_on_submit():
        wait = _login_locked(found.email)
        if wait is not None:
            form.password.errors = [_("Bạn đã đăng nhập sai quá nhiều lần. Tài khoản tạm khóa, "
                                      "vui lòng thử lại sau %(seconds)d giây.", seconds=wait)]
            response = Response(render_template("accounts/invitation.html", form=form,
                                                 invitation=found), 429)
            response.headers["Retry-After"] = str(wait)
            return response
        try:
            member = invitations.accept_invitation(secret, {
                "full_name": form.full_name.data, "password": form.password.data,
                "password_confirm": form.password_confirm.data})
        except Gone as exc:
            return render_template("accounts/claim_gone.html", message=exc.message), 410
        except DomainError as exc:
            form_error(form, exc)
            _count_failed_login(found.email)
            status = exc.status
        else:
            # Committed before signing in, as the claim is: the sign-in cookie must name a
            # membership that exists.
            db.session.commit()
            login_user(member)
            flash(_("Bạn đã tham gia %(name)s với vai trò nhân viên.", name=found.producer.name), "ok")
            return redirect(_home_for(member))
    elif form.is_submitted():
        status = 400
    return render_template("accounts/invitation.html", form=form, invitation=found), status


@blp.post("/account/producers/<int:producer_id>/staff/<int:user_id>/remove")
@signed_in()
def remove_staff(producer_id: int, user_id: int):
    if not ConfirmForm().validate_on_submit():
        abort(400)
    services.remove_staff(_me(), services.get_producer(producer_id), user_id)
    flash(_("Đã xóa nhân viên khỏi chủ thể."), "ok")
    return redirect(url_for("accounts.staff", producer_id=producer_id))


# ----------------------------------------------------------------------- handover

@blp.route("/account/producers/<int:producer_id>/handover", methods=["GET", "POST"])
@signed_in()
def handover(producer_id: int):
    user = _me()
    producer = services.get_producer(producer_id)
    history = services.handovers_of(user, producer)
    form = HandoverForm()
    if request.method == "GET":
        form.representative_name.data = producer.representative
    status = 200
    if form.validate_on_submit():
        try:
            services.issue_handover(user, producer, form.days.data, form.representative_name.data)
        except DomainError as exc:
            if exc.status == 403:
                raise
            form_error(form, exc)
            status = exc.status
        else:
            flash(_("Đã tạo mã nhận bàn giao. Hãy in biên bản và trao cho người đại diện."), "ok")
            return redirect(url_for("accounts.handover", producer_id=producer.id))
    elif form.is_submitted():
        status = 400
    current = services.open_claim(producer.id)
    can_handover = Action.HANDOVER in allowed_actions(user, producer)
    # The link is the key to the producer's account: only those who may hand over see it
    # (an inspector may view this page, but must not be able to claim the producer).
    link = None
    if current is not None and can_handover:
        link = services.claim_url(services.claim_secret(current))
    return render_template(
        "accounts/handover.html", producer=producer, form=form, history=history, current=current,
        link=link, confirm=ConfirmForm(), state=services.claim_state, can_handover=can_handover,
        handed_over=any(services.claim_state(h) == services.ClaimState.REDEEMED for h in history)), status


@blp.post("/account/producers/<int:producer_id>/handover/<int:handover_id>/cancel")
@signed_in()
def cancel_handover(producer_id: int, handover_id: int):
    if not ConfirmForm().validate_on_submit():
        abort(400)
    user = _me()
    producer = services.get_producer(producer_id)
    services.cancel_handover(user, services.get_handover(user, handover_id, producer))
    flash(_("Đã hủy mã nhận bàn giao."), "ok")
    return redirect(url_for("accounts.handover", producer_id=producer_id))


@blp.get("/account/producers/<int:producer_id>/handover/<int:handover_id>/record.pdf")
@signed_in()
def handover_record(producer_id: int, handover_id: int):
    from .api import pdf_response

    user = _me()
    producer = services.get_producer(producer_id)
    pdf = services.handover_record_pdf(user, services.get_handover(user, handover_id, producer))
    return pdf_response(pdf, handover_id)


# ------------------------------------------------------------------ the claim page

@blp.route("/claim/<secret>", methods=["GET", "POST"])
@limiter.shared_limit(CLAIM_LIMIT, scope="claim", methods=["POST"])
def claim(secret: str):
    try:
        handover = services.open_claim_for(secret)
    except Gone as exc:
        return render_template("accounts/claim_gone.html", message=exc.message), 410
    if current_user.is_authenticated:
        # A consultant testing the link on the same phone must not claim it for themself.
        logout_user()
    form = ClaimForm()
    if request.method == "GET" and handover.representative_name:
        form.full_name.data = handover.representative_name
    status = 200
    if form.validate_on_submit():
        try:
            owner = services.redeem_claim(secret, {
                "full_name": form.full_name.data, "email": form.email.data, "phone": form.phone.data,
                "password": form.password.data, "password_confirm": form.password_confirm.data})
        except Gone as exc:
            return render_template("accounts/claim_gone.html", message=exc.message), 410
        except DomainError as exc:
            form_error(form, exc)
            status = exc.status
        else:
            # Committed before signing in, not at the end of the request: the claim is won
            # (or lost to a simultaneous redemption) here, and the sign-in cookie must name
            # an account that exists.
            db.session.commit()
            login_user(owner)
            return render_template("accounts/claim_done.html", producer=handover.producer, owner=owner,
                                   home=_home_for(owner))
    elif form.is_submitted():
        status = 400
    return render_template("accounts/claim.html", form=form, handover=handover,
                           min_length=services.MIN_PASSWORD_LENGTH), status


# ------------------------------------------------------------------ officers' list

@blp.get("/officer/handovers")
@signed_in()
def officer_handovers():
    user = _me()
    state_arg = request.args.get("state") or None
    try:
        state = services.HandoverStatus(state_arg) if state_arg else None
    except ValueError:
        abort(400)
    page = request.args.get("page", "1")
    # The cap keeps OFFSET inside PostgreSQL's bigint for any typed-in page number.
    if not page.isdigit() or not 1 <= int(page) <= 100_000:
        abort(400)
    page_number = int(page)
    stmt = services.handover_status_query(user, state)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(stmt.order_by(None).subquery())) or 0
    rows = services.handover_status_rows(db.session.execute(
        stmt.limit(STATUS_PAGE_SIZE).offset((page_number - 1) * STATUS_PAGE_SIZE)).all())
    pages = max(1, -(-total // STATUS_PAGE_SIZE))
    return render_template("accounts/officer_handovers.html", rows=rows, state=state, total=total,
                           page=page_number, pages=pages, states=list(services.HandoverStatus),
                           labels=services.HANDOVER_STATUS_LABELS)


# ------------------------------------------------------------------------- CLI

@blp.cli.command("demo-accounts")
def demo_accounts_command() -> None:
    """Create the demo accounts (idempotent) and print their sign-in names."""
    import click

    from .demo import demo_logins, load_demo_accounts

    created = load_demo_accounts()
    db.session.commit()
    click.echo("demo accounts: " + ", ".join(f"{k} +{v}" for k, v in created.items()))
    for line in demo_logins():
        click.echo(line)


def _users_group() -> Any:
    import click
    from flask.cli import AppGroup

    users = AppGroup("users", help="Manage user accounts.")

    @users.command("create")
    @click.option("--email", required=True)
    @click.option("--role", required=True, type=click.Choice([r.value for r in Role]))
    @click.option("--name", "full_name", default=None, help="Full name (defaults to the e-mail)")
    @click.option("--region", "region_codes", multiple=True, help="Region code (officers, inspectors)")
    @click.option("--organisation", default=None)
    @click.password_option()
    def create(email: str, role: str, full_name: str | None, region_codes: tuple[str, ...],
               organisation: str | None, password: str) -> None:
        """Create a user; the password is asked for, never passed on the command line."""
        try:
            user = services.create_user(None, {"email": email, "role": role, "full_name": full_name or email,
                                               "region_codes": list(region_codes), "password": password,
                                               "organisation": organisation})
        except DomainError as exc:
            db.session.rollback()
            raise click.ClickException(exc.message + " " + str(exc.errors)) from None
        db.session.commit()
        click.echo(f"created user #{user.id} {user.email} ({user.role.value})")

    return users


blp.cli.add_command(_users_group())


@blp.app_context_processor
def _signed_in_user() -> dict[str, Any]:
    def signed_in_user() -> User | None:
        """The signed-in user for the page header; without a session cookie nothing is loaded,
        so anonymous pages (the public trace page) never touch the session or the database."""
        if current_app.config["SESSION_COOKIE_NAME"] not in request.cookies:
            return None
        return _me() if current_user.is_authenticated else None

    def staff_nav() -> list[tuple[Any, bool]]:
        """The signed-in user's navigation bar: (link, is the current task) pairs."""
        user = signed_in_user()
        if user is None:
            return []
        here = request.endpoint
        return [(link, here == link.endpoint or here in link.also) for link in nav_links(user)]

    return {"signed_in_user": signed_in_user, "staff_nav": staff_nav}
