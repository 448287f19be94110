"""VoIP.ms: the REST/JSON API client, date windows and the loopback sandbox."""
