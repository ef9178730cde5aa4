"""Import an assets bundle into Superset, overwriting what exists (run by Superset's python).

    <superset venv>/bin/python import_assets.py bundle.zip admin

``superset import-dashboards`` never overwrites the charts, datasets and database of an
existing dashboard, so a changed bundle would not reach a Superset that imported it once;
Superset's ``ImportAssetsCommand`` (what ``/api/v1/assets/import/`` runs) overwrites all of
them, which is what keeping the dashboard in the repository needs. This file imports only
Superset and the standard library: it runs in Superset's environment, not the project's.
"""

from __future__ import annotations

import sys
from zipfile import ZipFile


def main(path: str, username: str) -> int:
    from superset.app import create_app

    app = create_app()
    with app.app_context():
        from superset import security_manager
        from superset.commands.importers.v1.assets import ImportAssetsCommand
        from superset.commands.importers.v1.utils import get_contents_from_bundle
        from superset.utils.core import override_user

        user = security_manager.find_user(username=username)
        if user is None:
            print(f"no Superset user {username!r}: create the admin first", file=sys.stderr)
            return 2
        with ZipFile(path) as bundle, override_user(user):
            ImportAssetsCommand(get_contents_from_bundle(bundle)).run()
    print(f"imported {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1], sys.argv[2]))
