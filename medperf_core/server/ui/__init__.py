"""The web pages (`/ui/`): the benchmarks a viewer may see, and each benchmark's leaderboard, served by the server.

Server-rendered HTML (Jinja2 templates) and SVG, one stylesheet, no script and nothing fetched from elsewhere, so
the pages work offline. The viewer signs in with the server's own auth provider (a token cookie); every figure is
the leaderboard service's, the same as `GET /api/v0/benchmarks/ID/leaderboard/`.
"""
