"""Outgoing messages: the Notification outbox and the tasks that deliver it."""
