"""scheduling domain, one module per job: rules (what a time means), slots (a doctor's day), appointments (the
shape and loader), booking, waitlist, availability, queries (lists, dashboards) and calendar (.ics, the feed)."""
