"""One module per page group; each renders ``templates/<group>/``."""
