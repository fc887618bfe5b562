"""directory domain, people's records: departments, doctors, patients, records (what they share) and profiles
(sign-up, /api/auth/me, one's own profile). Logins are made, checked and blocked through hms.accounts."""
