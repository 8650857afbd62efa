"""Listen on Odoo's websocket as a logged-in browser tab does, and print each bus notification
as one JSON line (run by tests_odoo/prefork.py with Odoo's own python, which has
websocket-client): `{"ready": true}` once subscribed, then `{"type": ..., "payload": ...}`.

    ws_listen.py ws://127.0.0.1:<gevent port>/websocket <session_id> [channel ...]

Extra channels are subscribed to as well, as a Point of Sale subscribes to its register's
(`pos.config.access_token`).
"""

import json
import sys

import websocket  # websocket-client, in Odoo's requirements


def main() -> int:
    url, session_id, channels = sys.argv[1], sys.argv[2], sys.argv[3:]
    ws = websocket.create_connection(url, cookie=f"session_id={session_id}", timeout=None)
    ws.send(json.dumps({"event_name": "subscribe", "data": {"channels": channels, "last": 0}}))
    print(json.dumps({"ready": True}), flush=True)
    while True:
        for notification in json.loads(ws.recv()):
            print(json.dumps(notification.get("message", notification)), flush=True)


if __name__ == "__main__":
    sys.exit(main())
