"""Parties: organisations, their users and roles, and how they sign in (SPEC §1).

Its use cases are in named files: ``service`` (registration of an organisation, the caller of a
request, verification and suspension, the operators' directory), ``accounts`` (a sign-up that
reveals nothing, the address confirmed by an emailed token, password change and reset),
``members`` (invitations, roles, removal, the admin hand-over and the last admin) and ``sessions``
(sessions, rotating refresh tokens, sign-out). ``auth`` issues and checks access tokens and holds
the rate limits of signing in and of account mail; ``http`` resolves the caller of a request.
"""
