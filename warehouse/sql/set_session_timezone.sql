-- Session timezone UTC: TIMESTAMPTZ values read back as UTC whatever the host's zone is.
SET TimeZone = 'UTC';
