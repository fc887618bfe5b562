#!/usr/bin/env bash
# Regenerate migrations/versions/0001_initial_schema.py from hms/models.py.
# Allowed only while nothing is deployed (no release yet); after the first release, add new revisions instead.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
rm -f migrations/versions/0001_initial_schema.py
FLASK_APP=hms HMS_INSTANCE_PATH="$tmp" DATABASE_URL="sqlite:///$tmp/regen.sqlite3" \
  .venv/bin/flask db migrate -m "initial schema" --rev-id 0001_initial >/dev/null 2>&1
mv migrations/versions/0001_initial_initial_schema.py migrations/versions/0001_initial_schema.py
.venv/bin/ruff format -q migrations/versions/0001_initial_schema.py || true
rm -rf "$tmp"
echo "regenerated migrations/versions/0001_initial_schema.py"
