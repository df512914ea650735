"""Notifications and e-mail: every hand-off reaches the person (docs/rules.md §15), through
a real SMTP server on loopback."""

from __future__ import annotations

import json
import re
import threading
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from placements import clock
from placements.extensions import db as _db
from placements.models import AuditEvent, Notification, Opening, OutboxMessage, Placement
from placements.services import notifications, outbox, placements, reminders
from tests.builders import PASSWORD
from tests.conftest import csrf_token, log_in
from tests.mail_server import MailServer, html_of, text_of

NOTE = "Luottamuksellinen tarvemuistiinpano"


@pytest.fixture
def mail(app):
    server = MailServer().start()
    app.config.update(server.config())
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def scene(build):
    site = build.site(places_total="3", places_external="0")
    other = build.site(site_ref="OTHER-1", organisation="Toinen järjestö ry")
    worker = build.user("social_worker", name="Sanna Sosiaaliohjaaja")
    colleague = build.user("social_worker")
    host = build.user("host", organisation=site.organisation, name="Heikki Host")
    other_host = build.user("host", organisation=other.organisation)
    client = build.client(worker, share_with=[colleague])
    build.needs(client, worker, note=NOTE)
    return {
        "site": site,
        "opening": site.openings[0],
        "worker": worker,
        "colleague": colleague,
        "host": host,
        "other_host": other_host,
        "client": client,
    }


def send(db):
    report = outbox.send_pending(db.session)
    db.session.expire_all()
    return report


def inbox_of(db, user) -> list[Notification]:
    query = select(Notification).where(Notification.recipient_id == user.id).order_by(Notification.id)
    return list(db.session.scalars(query))


def browser_for(app, user):
    browser = app.test_client()
    assert log_in(browser, user.email, PASSWORD).status_code == 302
    return browser


def test_a_proposal_reaches_the_hosts_inbox_header_and_mailbox(app, db, build, scene, mail):
    placement = build.placement(scene["client"], scene["opening"], scene["worker"])

    assert [n.kind for n in inbox_of(db, scene["host"])] == ["proposal_made"]
    assert inbox_of(db, scene["other_host"]) == []
    page = browser_for(app, scene["host"]).get("/my/sites").get_data(as_text=True)
    assert re.search(r"Ilmoitukset\s*<span class=\"badge\"[^>]*>1</span>", page)

    assert send(db).sent == 1
    [message] = mail.to(scene["host"].email)
    assert message["Subject"] == f"Uusi sijoitusehdotus: {scene['opening'].title}, {scene['site'].name}"
    text = text_of(message)
    assert "Sanna Sosiaaliohjaaja ehdottaa asiakkaalle " + scene["client"].code in text
    assert f"http://127.0.0.1:5000/placements/{placement.id}" in text
    assert f'href="http://127.0.0.1:5000/placements/{placement.id}"' in html_of(message)
    assert "Saat tämän viestin" in text and "/account/preferences" in text
    assert NOTE not in text and NOTE not in html_of(message)


def test_accepting_declining_and_cancelling_tell_the_other_side(app, db, build, scene, mail):
    first = build.placement(scene["client"], scene["opening"], scene["worker"])
    placements.accept(db.session, first, scene["host"], now=clock.now())
    db.session.commit()
    worker_kinds = [n.kind for n in inbox_of(db, scene["worker"])]
    assert worker_kinds == ["proposal_accepted"]
    assert [n.kind for n in inbox_of(db, scene["colleague"])] == ["proposal_accepted"]  # shared with them

    other_site = build.site(site_ref="SECOND", organisation=scene["site"].organisation.name)
    second = build.placement(scene["client"], other_site.openings[0], scene["worker"])
    placements.decline(db.session, second, scene["host"], reason="Ryhmä on jo täynnä.", now=clock.now())
    db.session.commit()
    send(db)
    declined = [m for m in mail.to(scene["worker"].email) if m["Subject"].startswith("Ehdotus hylätty")]
    assert len(declined) == 1 and "Syy: Ryhmä on jo täynnä." in text_of(declined[0])

    third = build.placement(
        scene["client"],
        build.site(site_ref="THIRD", organisation=scene["site"].organisation.name).openings[0],
        scene["worker"],
    )
    placements.cancel(db.session, third, scene["worker"], now=clock.now(), today=clock.today())
    db.session.commit()
    assert inbox_of(db, scene["host"])[-1].kind == "placement_cancelled"
    assert all(n.kind != "placement_cancelled" for n in inbox_of(db, scene["worker"]))  # the actor is not told


def test_english_users_get_english_mail(app, db, build, scene, mail):
    scene["host"].language = "en"
    db.session.commit()
    build.placement(scene["client"], scene["opening"], scene["worker"])
    send(db)
    [message] = mail.to(scene["host"].email)
    assert message["Subject"].startswith("New proposal: ")
    assert message["Content-Language"] == "en"
    assert "proposes a placement for client" in text_of(message)


def test_preferences_choose_inbox_only_or_a_daily_summary(app, db, build, scene, mail):
    notifications.save_preferences(
        db.session, scene["host"], scene["host"], choices={"proposal_made": "inbox"}, language="fi"
    )
    notifications.save_preferences(
        db.session, scene["worker"], scene["worker"], choices={"proposal_accepted": "daily"}, language="fi"
    )
    db.session.commit()
    placement = build.placement(scene["client"], scene["opening"], scene["worker"])
    placements.accept(db.session, placement, scene["host"], now=clock.now())
    db.session.commit()

    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 1  # the colleague's, at once
    assert inbox_of(db, scene["host"])[0].email == "none"
    assert inbox_of(db, scene["worker"])[0].email == "digest"

    reminders.run_daily(db.session, stale_after_days=60)
    db.session.commit()
    send(db)
    assert mail.to(scene["host"].email) == []
    [summary] = mail.to(scene["worker"].email)
    assert "Ehdotus hyväksytty" in text_of(summary)
    assert inbox_of(db, scene["worker"])[0].email == "sent"

    reminders.run_daily(db.session, stale_after_days=60)  # nothing new: no second summary
    db.session.commit()
    send(db)
    assert len(mail.to(scene["worker"].email)) == 1


def test_a_user_cannot_change_another_users_preferences(db, scene):
    from placements.errors import PermissionDenied

    with pytest.raises(PermissionDenied):
        notifications.save_preferences(
            db.session, scene["host"], scene["worker"], choices={"proposal_made": "inbox"}, language="fi"
        )


def test_the_preferences_page_saves_the_choices_and_the_language(app, db, scene):
    browser = browser_for(app, scene["host"])
    token = csrf_token(browser, "/account/preferences")
    response = browser.post(
        "/account/preferences",
        data={
            "csrf_token": token,
            "kind_proposal_made": "daily",
            "kind_proposal_reminder": "immediate",
            "kind_placement_cancelled": "immediate",
            "kind_placement_starting": "daily",
            "kind_placement_ending": "daily",
            "kind_stale_digest": "inbox",
            "kind_round_invitation": "immediate",
            "kind_round_reminder": "daily",
            "language": "en",
        },
    )
    assert response.status_code == 303
    db.session.expire_all()
    assert notifications.preferences(db.session, scene["host"])["proposal_made"] == "daily"
    assert scene["host"].language == "en"
    assert "Notification choices" in browser.get("/account/preferences").get_data(as_text=True)


def test_a_refusing_server_is_retried_with_backoff_and_a_permanent_refusal_fails(app, db, build, scene, mail):
    build.placement(scene["client"], scene["opening"], scene["worker"])
    mail.refuse = "451 4.3.0 Try again later"
    report = send(db)
    message = db.session.scalar(select(OutboxMessage))
    assert (report.retried, message.status, message.attempts) == (1, "pending", 1)
    assert "451" in message.last_error and message.next_attempt_at > clock.now() + timedelta(seconds=50)

    assert send(db).retried == 0  # not due yet
    mail.refuse = None
    with clock.fixed(clock.now() + timedelta(minutes=2)):
        assert send(db).sent == 1
    assert len(mail.to(scene["host"].email)) == 1

    build.placement(
        scene["client"],
        build.site(site_ref="X2", organisation=scene["site"].organisation.name).openings[0],
        scene["worker"],
    )
    mail.refuse = "550 5.1.1 No such user"
    assert send(db).failed == 1
    failed = db.session.scalar(select(OutboxMessage).where(OutboxMessage.status == "failed"))
    assert "550" in failed.last_error


def test_two_senders_racing_deliver_every_message_exactly_once(app, db, build, scene, mail):
    hosts = [build.user("host", organisation=scene["site"].organisation) for _ in range(4)]
    for number in range(6):
        site = build.site(site_ref=f"RACE-{number}", organisation=scene["site"].organisation.name)
        build.placement(scene["client"], site.openings[0], scene["worker"])
    expected = db.session.scalar(select(func.count()).select_from(OutboxMessage))
    assert expected == 6 * 5  # five hosts, six proposals
    addresses = {u.email for u in [scene["host"], *hosts]}
    db.session.remove()

    errors = []

    def sender():
        try:
            with app.app_context():
                outbox.send_pending(_db.session, limit=4)
                _db.session.remove()
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=sender) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    ids = [m["Message-ID"] for m in mail.messages]
    assert len(ids) == expected and len(set(ids)) == expected
    assert db.session.scalar(select(func.count()).where(OutboxMessage.status == "sent")) == expected
    assert {m["To"] for m in mail.messages} == addresses


def test_without_a_mail_server_messages_are_written_as_files(app, db, build, scene, tmp_path):
    app.config["MAIL_SERVER"] = ""
    build.placement(scene["client"], scene["opening"], scene["worker"])
    assert send(db).sent == 1
    files = list((tmp_path / "outbox").glob("*.eml"))
    assert len(files) == 1 and scene["host"].email in files[0].read_text(encoding="utf-8")


def test_the_coordinator_sees_the_envelope_never_the_body(app, db, build, scene, mail):
    build.placement(scene["client"], scene["opening"], scene["worker"])
    send(db)
    page = browser_for(app, build.user("coordinator")).get("/admin/outbox").get_data(as_text=True)
    assert scene["host"].email in page and "lähetetty" in page
    assert scene["client"].code not in page


def test_the_inbox_lists_newest_first_marks_read_and_keeps_others_out(app, db, build, scene):
    build.placement(scene["client"], scene["opening"], scene["worker"])
    second = build.placement(
        scene["client"],
        build.site(site_ref="NEW2", organisation=scene["site"].organisation.name, opening_title="Siivooja").openings[0],
        scene["worker"],
    )
    browser = browser_for(app, scene["host"])
    page = browser.get("/notifications").get_data(as_text=True)
    assert page.index(second.opening.title) < page.index(scene["opening"].title)
    newest = inbox_of(db, scene["host"])[-1]

    response = browser.get(f"/notifications/{newest.id}")
    assert response.status_code == 302 and response.headers["Location"] == f"/placements/{second.id}"
    db.session.expire_all()
    assert db.session.get(Notification, newest.id).read_at is not None
    assert notifications.unread_count(db.session, scene["host"]) == 1

    assert browser_for(app, scene["other_host"]).get(f"/notifications/{newest.id}").status_code == 404
    token = csrf_token(browser, "/notifications")
    assert browser.post("/notifications/read", data={"csrf_token": token}).status_code == 303
    assert notifications.unread_count(db.session, scene["host"]) == 0


def test_notifications_never_hold_needs_and_codes_reach_only_those_who_may_see_them(app, db, build, scene, mail):
    placement = build.placement(scene["client"], scene["opening"], scene["worker"])
    placements.accept(db.session, placement, scene["host"], now=clock.now())
    db.session.commit()
    send(db)
    for notification in db.session.scalars(select(Notification)):
        assert NOTE not in notification.params
        recipient = notification.recipient
        if notification.client_code:
            reader = recipient.role == "social_worker" and scene["client"].code == notification.client_code
            host = recipient.organisation_id == scene["site"].organisation_id
            assert reader or host
    for message in mail.messages:
        assert NOTE not in text_of(message)


# --- what the day brings -------------------------------------------------------------------


def test_working_days_skip_weekends_and_finnish_holidays():
    assert reminders.working_days_between(date(2026, 12, 21), date(2026, 12, 29)) == 4  # 24–26 Dec are holidays
    assert reminders.working_days_between(date(2026, 12, 21), date(2026, 12, 30)) == 5
    assert reminders.working_days_between(date(2026, 11, 27), date(2026, 12, 4)) == 5  # Fri → Fri


def test_an_unanswered_proposal_reminds_the_hosts_once_after_five_working_days(app, db, build, scene):
    proposed = datetime(2026, 12, 21, 9, 0, tzinfo=UTC)
    with clock.fixed(proposed):
        placement = build.placement(scene["client"], scene["opening"], scene["worker"], start_date=date(2027, 1, 11))
    with clock.fixed(datetime(2026, 12, 29, 6, 0, tzinfo=UTC)):
        reminders.run_daily(db.session, stale_after_days=60)
    assert not any(n.kind == "proposal_reminder" for n in inbox_of(db, scene["host"]))
    for moment in (datetime(2026, 12, 30, 6, 0, tzinfo=UTC), datetime(2026, 12, 31, 6, 0, tzinfo=UTC)):
        with clock.fixed(moment):
            reminders.run_daily(db.session, stale_after_days=60)
    db.session.commit()
    assert [n.kind for n in inbox_of(db, scene["host"])].count("proposal_reminder") == 1
    note = [n for n in inbox_of(db, scene["worker"]) if n.kind == "proposal_unanswered"]
    assert len(note) == 1 and note[0].subject_id == str(placement.id)


def test_starts_tomorrow_and_ends_in_two_weeks_are_told_once_to_both_sides(app, db, build, scene):
    start = clock.today() + timedelta(days=1)
    placement = build.placement(scene["client"], scene["opening"], scene["worker"], start_date=start)
    placements.accept(db.session, placement, scene["host"], now=clock.now())
    db.session.commit()
    reminders.run_daily(db.session, stale_after_days=60)
    reminders.run_daily(db.session, stale_after_days=60)
    db.session.commit()
    for user in (scene["worker"], scene["host"]):
        assert [n.kind for n in inbox_of(db, user)].count("placement_starting") == 1

    ending_day = db.session.get(Placement, placement.id).planned_end - timedelta(days=14)
    with clock.fixed(datetime.combine(ending_day, datetime.min.time(), tzinfo=clock.HELSINKI) + timedelta(hours=7)):
        reminders.run_daily(db.session, stale_after_days=60)
    db.session.commit()
    assert [n.kind for n in inbox_of(db, scene["host"])].count("placement_ending") == 1


def _stale_scene(build, scene, db):
    opening = scene["opening"]
    opening.last_confirmed_at = clock.now() - timedelta(days=90)
    db.session.commit()
    return opening


def test_the_stale_reminder_goes_out_once_a_week_per_organisation(app, db, build, scene, mail):
    _stale_scene(build, scene, db)
    second_host = build.user("host", organisation=scene["site"].organisation)
    start = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
    for days in (0, 0, 3, 6):
        with clock.fixed(start + timedelta(days=days)):
            reminders.run_daily(db.session, stale_after_days=60)
    db.session.commit()
    for host in (scene["host"], second_host):
        assert [n.kind for n in inbox_of(db, host)].count("stale_digest") == 1
    with clock.fixed(start + timedelta(days=7, hours=1)):
        reminders.run_daily(db.session, stale_after_days=60)
    db.session.commit()
    assert [n.kind for n in inbox_of(db, scene["host"])].count("stale_digest") == 2
    assert inbox_of(db, scene["other_host"]) == []  # its opening is fresh


def test_the_one_click_confirm_works_from_the_received_mail_without_logging_in(app, db, build, scene, mail):
    opening = _stale_scene(build, scene, db)
    reminders.run_daily(db.session, stale_after_days=60)
    db.session.commit()
    send(db)
    [message] = mail.to(scene["host"].email)
    assert message["Subject"].startswith("Ovatko tietonne ajan tasalla?")
    links = re.findall(r"http://127\.0\.0\.1:5000(/confirm/[^\s\"<]+)", text_of(message))
    assert len(links) == 1
    link = links[0]
    assert f"/openings/{opening.id}/capacity" in text_of(message)

    visitor = app.test_client()
    page = visitor.get(link)
    assert page.status_code == 200 and "Pitävätkö tiedot yhä paikkansa?" in page.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Opening, opening.id).last_confirmed_at < clock.now() - timedelta(
        days=80
    )  # GET changed nothing

    token = csrf_token(visitor, link)
    done = visitor.post(link, data={"csrf_token": token})
    assert done.status_code == 200 and "Kiitos, tiedot on vahvistettu" in done.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Opening, opening.id).last_confirmed_at > clock.now() - timedelta(minutes=1)
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "opening_confirmed"))
    assert event.user_id == scene["host"].id and event.ip_address == "127.0.0.1"

    again = visitor.post(link, data={"csrf_token": token})
    assert again.status_code == 409 and "Linkki on jo käytetty" in again.get_data(as_text=True)


def test_an_expired_or_forged_confirm_link_explains_itself(app, db, build, scene):
    from placements.services import tokens

    opening = _stale_scene(build, scene, db)
    link = tokens.confirm_link(opening.id, scene["host"].id, opening.last_confirmed_at)
    with clock.fixed(clock.now()):
        pass
    forged = link[:-3] + ("aaa" if not link.endswith("aaa") else "bbb")
    page = app.test_client().get(forged)
    assert page.status_code == 404 and "Linkki ei toimi" in page.get_data(as_text=True)

    import itsdangerous

    real_loads = itsdangerous.URLSafeTimedSerializer.loads

    def expired(self, *args, **kwargs):
        raise itsdangerous.SignatureExpired("expired")

    itsdangerous.URLSafeTimedSerializer.loads = expired
    try:
        page = app.test_client().get(link)
    finally:
        itsdangerous.URLSafeTimedSerializer.loads = real_loads
    assert page.status_code == 410 and "Linkki on vanhentunut" in page.get_data(as_text=True)
    assert "/login" in page.get_data(as_text=True)


def test_another_organisations_host_cannot_confirm_with_a_link(app, db, build, scene):
    from placements.services import tokens

    opening = _stale_scene(build, scene, db)
    link = tokens.confirm_link(opening.id, scene["other_host"].id, opening.last_confirmed_at)
    assert app.test_client().get(link).status_code == 404


def test_the_daily_command_and_the_send_command_run_from_the_command_line(app, db, build, scene, mail, runner):
    _stale_scene(build, scene, db)
    result = runner.invoke(args=["notifications", "daily"])
    assert result.exit_code == 0, result.output
    assert "stale_digest 1" in result.output
    result = runner.invoke(args=["outbox", "send"])
    assert result.exit_code == 0, result.output
    assert len(mail.to(scene["host"].email)) == 1
    assert json.loads(inbox_of(db, scene["host"])[0].params)["openings"][0]["id"] == scene["opening"].id


# --- accounts and transfers --------------------------------------------------------------


def test_moving_clients_tells_both_workers(app, db, build, scene, mail):
    from placements.services import users

    receiver = build.user("social_worker", name="Vastaanottava Ohjaaja")
    receiver.last_login_at = clock.now()
    db.session.commit()
    coordinator = build.user("coordinator")
    users.transfer_clients(db.session, scene["worker"], receiver, by=coordinator)
    db.session.commit()

    [out] = [n for n in inbox_of(db, scene["worker"]) if n.kind == "clients_transferred"]
    [incoming] = [n for n in inbox_of(db, receiver) if n.kind == "clients_transferred"]
    assert "siirrettiin sosiaaliohjaajalle Vastaanottava Ohjaaja" in notifications.describe(out).lines[0]
    assert "Sinulle siirrettiin 1 asiakas " in notifications.describe(incoming).lines[0]
    assert out.client_code is None and incoming.client_code is None  # the codes are in the audit trail
    send(db)
    assert len(mail.to(receiver.email)) == 1 and len(mail.to(scene["worker"].email)) == 1


def test_with_a_mail_server_the_set_password_link_goes_only_to_its_owner(app, db, build, mail):
    coordinator = build.user("coordinator")
    browser = browser_for(app, coordinator)
    form = {"email": "uusi.ohjaaja@example.fi", "name": "Uusi Ohjaaja", "role": "social_worker"}
    token = csrf_token(browser, "/admin/users")
    response = browser.post("/admin/users", data=form | {"csrf_token": token})

    assert response.status_code == 302 and response.headers["Location"] == "/admin/users"
    page = browser.get("/admin/users").get_data(as_text=True)
    assert "lähetettiin sähköpostiin osoitteeseen uusi.ohjaaja@example.fi" in page
    assert "/account/set-password/" not in page

    send(db)
    [message] = mail.to("uusi.ohjaaja@example.fi")
    assert message["Subject"] == "Käyttäjätunnuksesi Kainuun paikkarekisteriin"
    link = re.search(r"http://127\.0\.0\.1:5000(/account/set-password/\S+)", text_of(message)).group(1)
    sent = db.session.scalar(select(OutboxMessage).where(OutboxMessage.recipient_email == "uusi.ohjaaja@example.fi"))
    assert sent.status == "sent" and sent.body_text == "" and sent.body_html == ""  # the secret is not kept
    assert all("set-password" not in n.params for n in db.session.scalars(select(Notification)))

    newcomer = app.test_client()
    page = newcomer.get(link)
    assert page.status_code == 200
    answer = newcomer.post(
        link, data={"csrf_token": csrf_token(newcomer, link), "new_password": PASSWORD, "confirm": PASSWORD}
    )
    assert answer.status_code == 302 and answer.headers["Location"] == "/clients"
