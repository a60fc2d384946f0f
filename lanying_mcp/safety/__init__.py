"""The rules a call is held to: the operator policy, consent risks and grants, OAuth scopes, redaction, audit."""
