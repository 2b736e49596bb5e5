"""A program whose project filter (.codetracer/trace-filter.toml) is
malformed: the recorder refuses to start and the program never runs."""

print("the program ran")
