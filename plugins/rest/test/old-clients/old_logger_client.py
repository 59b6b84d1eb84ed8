"""The old Python logger's API client, as it posted readings to the Django API.

Logs in with simplejwt, posts flat readings (instant values to power/,
counters to energy/, batches as arrays), retries with back-off on network
errors, 5xx and 429, logs in again on a 401. Standard library only.

Usage: old_logger_client.py BASE_URL METER_ID READINGS_JSON
(username and password from LOGGER_USERNAME / LOGGER_PASSWORD). READINGS_JSON
holds {"power": [flat readings], "energy": [flat readings]}. Prints one JSON
line per post: {"family", "status", "attempts", "body"}.
"""
import json
import os
import sys
import time
import urllib.error
import urllib.request

BASE, METER, READINGS = sys.argv[1], sys.argv[2], sys.argv[3]
TRIES = 8


def request(path, body, token=None):
    data = json.dumps(body).encode()
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = "Bearer " + token
    req = urllib.request.Request(BASE + path, data=data, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=10) as res:
            return res.status, json.loads(res.read() or b"null")
    except urllib.error.HTTPError as err:
        text = err.read()
        try:
            return err.code, json.loads(text or b"null")
        except ValueError:
            return err.code, text.decode(errors="replace")


def with_retries(fn):
    delay = 0.05
    for attempt in range(1, TRIES + 1):
        try:
            status, body = fn()
            if status < 500 and status != 429:
                return status, body, attempt
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            status, body = None, None
        time.sleep(delay)
        delay = min(delay * 2, 1.0)
    return status, body, TRIES


def login():
    status, body, _ = with_retries(lambda: request("/api/token/", {
        "username": os.environ["LOGGER_USERNAME"], "password": os.environ["LOGGER_PASSWORD"]}))
    if status != 200:
        sys.exit("login failed: %s %s" % (status, body))
    return body["access"]


def main():
    token = login()
    with open(READINGS) as f:
        readings = json.load(f)
    for family in ("power", "energy"):
        batch = readings.get(family) or []
        # The old logger sent single readings as objects and backlogs as arrays.
        payloads = [batch[0]] + ([batch[1:]] if len(batch) > 1 else [])
        for payload in payloads:
            path = "/api/meters/%s/%s/" % (METER, family)
            status, body, attempts = with_retries(lambda: request(path, payload, token))
            if status == 401:
                token = login()
                status, body, more = with_retries(lambda: request(path, payload, token))
                attempts += more
            print(json.dumps({"family": family, "status": status, "attempts": attempts, "body": body}), flush=True)


main()
