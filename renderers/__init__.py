"""Pure renderers: settings in, text or plain data out. No Pulumi imports here."""
