"""The shared prompt library: versioned templates as files, loaded through one registry."""
