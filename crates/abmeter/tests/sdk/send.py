"""Sends identify, group, track and page calls to abmeter through the official Segment and
RudderStack Python SDKs, unchanged but for the host. Usage: python3 send.py URL WRITE_KEY
Exits non-zero if either SDK reports a delivery error."""
import sys

from segment.analytics.client import Client as SegmentClient
from rudderstack.analytics.client import Client as RudderClient

url, write_key = sys.argv[1], sys.argv[2]
errors = []


def on_error(error, items):
    errors.append(f"{error!r} ({len(items)} calls)")


def calls(client, sdk):
    user = f"{sdk}-user"
    client.identify(user, {"email": f"{sdk}@{sdk}.example.com", "title": "CTO", "firstName": "Py"},
                    anonymous_id=f"{sdk}-visitor")
    client.group(user, f"{sdk}-account", {"name": f"{sdk} GmbH", "website": f"https://{sdk}-corp.com/about",
                                         "industry": "Software", "employees": 80})
    client.track(user, "Demo Requested", {"product": "abm"}, context={"groupId": f"{sdk}-account"})
    client.page(anonymous_id=f"{sdk}-visitor", name="Pricing",
                properties={"url": f"https://www.example.com/pricing?from={sdk}"})
    client.flush()
    client.join()


# gzip=True: the Python SDKs send Content-Encoding: gzip when asked.
calls(SegmentClient(write_key, host=url, on_error=on_error, max_retries=0, gzip=True), "segment-python")
calls(RudderClient(write_key, host=url, on_error=on_error, max_retries=0), "rudder-python")
if errors:
    print("\n".join(errors), file=sys.stderr)
    sys.exit(1)
