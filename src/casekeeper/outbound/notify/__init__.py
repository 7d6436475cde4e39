"""Notifications out, on the wire: Slack, Teams, Mattermost, PagerDuty Events v2, webhooks and
e-mail (docs/CONNECTORS.md). Imports only the domain."""

from casekeeper.outbound.notify.http import NotificationDispatcher, deliver_once

__all__ = ["NotificationDispatcher", "deliver_once"]
