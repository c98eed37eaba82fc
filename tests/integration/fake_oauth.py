# SPDX-License-Identifier: MIT
"""fake_oauth: a fake Mastodon that heed can sign in to (OAuth 2 over real TLS).

FakeMastodonOAuth is a FakeMastodon (fakenet.py) that also speaks the
sign-in half of the API, as docs.joinmastodon.org describes it
(methods/apps.md, methods/oauth.md; network-apis.md §1.8):

  POST /api/v1/apps        client_name, redirect_uris, scopes, website
                           -> {client_id, client_secret, ...}; unknown scopes
                           and a missing redirect_uris are a 422
  GET  /oauth/authorize    response_type=code, client_id, redirect_uri, scope,
                           code_challenge, code_challenge_method: an HTML page
                           (where a person would click "Authorize")
  POST /oauth/token        grant_type=authorization_code, code, client_id,
                           client_secret, redirect_uri, code_verifier
                           -> {access_token, token_type, scope, created_at};
                           a wrong, used or expired code, another client's
                           code, a redirect_uri or PKCE verifier that does
                           not match: 400 invalid_grant (Doorkeeper's words);
                           a bad client secret: 401 invalid_client
  POST /oauth/revoke       client_id, client_secret, token -> {}

Nobody clicks in a test: approve(url) plays the user who opened the
authorisation URL and pressed "Authorize", and returns the code the page
would show. approve(url, scopes=[...]) grants fewer scopes than asked (a
user who unticked some, or a server policy); approve(url, expires_in=-1)
hands out a code that has already expired. pkce=False makes a server older
than 4.3, which ignores code_challenge.

Tokens issued here work on the rest of the fake's API (verify_credentials,
notifications, ...) within their scopes: outside them the answer is 403
"This action is outside the authorized scopes", as Mastodon says it.
Only the standard library is used.
"""

import base64
import hashlib
import json
import os
import secrets
import sys
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from fakenet import FakeMastodon, Response, json_response  # noqa: E402

OOB = "urn:ietf:wg:oauth:2.0:oob"
KNOWN_SCOPES = {
    "read", "write", "follow", "push", "profile",
    "read:accounts", "read:blocks", "read:bookmarks", "read:favourites", "read:filters", "read:follows",
    "read:lists", "read:mutes", "read:notifications", "read:search", "read:statuses",
    "write:accounts", "write:blocks", "write:bookmarks", "write:conversations", "write:favourites",
    "write:filters", "write:follows", "write:lists", "write:media", "write:mutes",
    "write:notifications", "write:reports", "write:statuses",
}
INVALID_GRANT = ("The provided authorization grant is invalid, expired, revoked, does not match the "
                 "redirection URI used in the authorization request, or was issued to another client.")
INVALID_CLIENT = ("Client authentication failed due to unknown client, no client authentication included, "
                  "or unsupported authentication method.")

# What each API path needs (a token with "read" has every read:* scope).
_PATH_SCOPES = [
    ("/api/v1/accounts/verify_credentials", "read:accounts"),
    ("/api/v1/accounts/relationships", "read:follows"),
    ("/api/v1/notifications", "read:notifications"),
    ("/api/v1/markers", "read:statuses"),
]


def s256(verifier):
    """The PKCE S256 challenge for a verifier (RFC 7636 §4.2)."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def _has_scope(granted, want):
    return want in granted or (want.startswith("read:") and "read" in granted) \
        or (want.startswith("write:") and "write" in granted)


class FakeMastodonOAuth(FakeMastodon):
    name = "mastodon-oauth"

    def __init__(self, pkce=True, **kw):
        self.pkce = pkce
        self._olock = threading.Lock()
        self.apps = {}            # client_id -> {"name", "secret", "scopes", "redirect_uris"}
        self.codes = {}           # code -> grant dict (see approve)
        self.tokens = {}          # token -> {"client_id", "scopes", "revoked"}
        self.token_requests = []  # parsed POST /oauth/token forms, in order
        self.revoked = []         # tokens given back through /oauth/revoke
        super().__init__(**kw)

    # -- playing the user

    def approve(self, url, scopes=None, expires_in=600):
        """The user opened the authorisation URL and allowed it: return the
        code the page shows. scopes: what is granted (default: what the URL
        asked for). Raises AssertionError for a URL Mastodon would refuse."""
        parts = urllib.parse.urlsplit(url)
        if parts.scheme != "https" or parts.netloc != self.host_port or parts.path != "/oauth/authorize":
            raise AssertionError(f"not this server's authorisation page: {url}")
        q = {k: v[0] for k, v in urllib.parse.parse_qs(parts.query, keep_blank_values=True).items()}
        problem = self._check_authorize(q)
        if problem:
            raise AssertionError(f"the authorisation page would refuse {url}: {problem}")
        asked = q.get("scope", "read").split()
        granted = list(asked if scopes is None else scopes)
        code = secrets.token_urlsafe(32)
        with self._olock:
            self.codes[code] = {
                "client_id": q["client_id"], "redirect_uri": q["redirect_uri"], "scopes": granted,
                "challenge": q.get("code_challenge") if self.pkce else None,
                "method": q.get("code_challenge_method", "plain"),
                "expires": time.time() + expires_in, "used": False,
            }
        return code

    # -- HTTP

    def setup_routes(self):
        super().setup_routes()
        self.route("POST", r"/api/v1/apps", self._create_app)
        self.route("GET", r"/oauth/authorize", self._authorize_page)
        self.route("POST", r"/oauth/token", self._token)
        self.route("POST", r"/oauth/revoke", self._revoke)

    def check_auth(self, req):
        if req.path == "/api/v1/apps" or req.path.startswith("/oauth/"):
            return None
        auth = req.header("authorization") or ""
        token = auth[7:] if auth.startswith("Bearer ") else None
        with self._olock:
            grant = self.tokens.get(token)
        if grant is None:
            return super().check_auth(req)
        if grant["revoked"]:
            return json_response({"error": "The access token was revoked"}, 401)
        for prefix, scope in _PATH_SCOPES:
            if req.path.startswith(prefix) and not _has_scope(grant["scopes"], scope):
                return json_response({"error": "This action is outside the authorized scopes"}, 403)
        return None

    @staticmethod
    def _form(req):
        if (req.header("content-type") or "").startswith("application/json"):
            try:
                data = json.loads(req.body or b"{}")
            except ValueError:
                return None
            if not isinstance(data, dict):
                return None
            return {k: (" ".join(v) if isinstance(v, list) else str(v)) for k, v in data.items()}
        return {k: v[0] for k, v in urllib.parse.parse_qs(req.body.decode(errors="replace"),
                                                           keep_blank_values=True).items()}

    def _create_app(self, req, m):
        form = self._form(req)
        if form is None:
            return json_response({"error": "Invalid JSON"}, 422)
        if not form.get("client_name"):
            return json_response({"error": "Validation failed: Application name can't be blank"}, 422)
        redirect = form.get("redirect_uris", "")
        if not redirect:
            return json_response({"error": "Validation failed: Redirect URI can't be blank"}, 422)
        scopes = form.get("scopes", "read").split()
        unknown = [s for s in scopes if s not in KNOWN_SCOPES]
        if unknown:
            return json_response({"error": f"Validation failed: Scopes are invalid ({' '.join(unknown)})"}, 422)
        client_id, client_secret = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        with self._olock:
            self.apps[client_id] = {"name": form["client_name"], "secret": client_secret, "scopes": scopes,
                                    "redirect_uris": redirect.split()}
        return json_response({
            "id": str(len(self.apps)), "name": form["client_name"], "website": form.get("website") or None,
            "scopes": scopes, "redirect_uri": redirect, "redirect_uris": redirect.split(),
            "client_id": client_id, "client_secret": client_secret, "client_secret_expires_at": 0,
            "vapid_key": "BCk-QqERU0q-CfYZjcuB6lnyyOYfJ2AifKqfeGIm7Z-HiTU5T9eTG5GxVA0_OH5mMlI4UkkDTpaZwozy0TzdZ2M=",
        })

    def _check_authorize(self, q):
        if q.get("response_type") != "code":
            return "response_type is not code"
        with self._olock:
            app = self.apps.get(q.get("client_id"))
        if app is None:
            return "unknown client_id"
        if q.get("redirect_uri") not in app["redirect_uris"]:
            return "redirect_uri was not registered"
        asked = q.get("scope", "read").split()
        if not all(s in app["scopes"] for s in asked):
            return "scope asks for more than the app registered"
        if self.pkce and q.get("code_challenge") and q.get("code_challenge_method") != "S256":
            return "code_challenge_method is not S256"
        return None

    def _authorize_page(self, req, m):
        q = {k: v[0] for k, v in req.query.items()}
        problem = self._check_authorize(q)
        if problem:
            return Response(400, f"<p>The authorization server denied the request: {problem}</p>".encode(),
                            content_type="text/html; charset=utf-8")
        page = ("<!DOCTYPE html><title>Authorization required</title>"
                "<p><b>heed</b> would like permission to access your account. It is a third-party application.</p>"
                f"<p>Scopes: {q.get('scope', 'read')}</p><button>Authorize</button>")
        return Response(200, page.encode(), content_type="text/html; charset=utf-8")

    def _token(self, req, m):
        form = self._form(req) or {}
        with self._olock:
            self.token_requests.append(form)
        if form.get("grant_type") != "authorization_code":
            return json_response({"error": "unsupported_grant_type",
                                  "error_description": "The authorization grant type is not supported by the "
                                                       "authorization server."}, 400)
        with self._olock:
            app = self.apps.get(form.get("client_id"))
            if app is None or app["secret"] != form.get("client_secret"):
                return json_response({"error": "invalid_client", "error_description": INVALID_CLIENT}, 401)
            grant = self.codes.get(form.get("code"))
            bad = (grant is None or grant["used"] or grant["expires"] < time.time()
                   or grant["client_id"] != form.get("client_id")
                   or grant["redirect_uri"] != form.get("redirect_uri"))
            if not bad and grant["challenge"]:
                verifier = form.get("code_verifier") or ""
                bad = not (43 <= len(verifier) <= 128) or s256(verifier) != grant["challenge"]
            if grant is not None:
                grant["used"] = True      # a code is spent by any attempt, as Doorkeeper does
            if bad:
                return json_response({"error": "invalid_grant", "error_description": INVALID_GRANT}, 400)
            token = secrets.token_urlsafe(32)
            self.tokens[token] = {"client_id": form["client_id"], "scopes": grant["scopes"], "revoked": False}
        return json_response({"access_token": token, "token_type": "Bearer",
                              "scope": " ".join(grant["scopes"]), "created_at": int(time.time())})

    def _revoke(self, req, m):
        form = self._form(req) or {}
        with self._olock:
            app = self.apps.get(form.get("client_id"))
            if app is None or app["secret"] != form.get("client_secret"):
                return json_response({"error": "invalid_client", "error_description": INVALID_CLIENT}, 401)
            t = self.tokens.get(form.get("token"))
            if t is not None:
                t["revoked"] = True
                self.revoked.append(form["token"])
        return json_response({})

    # -- for assertions

    def issued_tokens(self):
        with self._olock:
            return [t for t, g in self.tokens.items() if not g["revoked"]]


__all__ = ["FakeMastodonOAuth", "OOB", "s256", "INVALID_GRANT"]
