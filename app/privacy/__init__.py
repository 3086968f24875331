"""Privacy: the retention of question texts and the audited export of one person's records."""
