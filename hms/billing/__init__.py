"""Billing: an invoice per completed visit, numbered without gaps per financial year, its payments and refunds."""
