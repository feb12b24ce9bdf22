"""People who sign in to the console: factory staff, auditors, admins; and their sessions."""
