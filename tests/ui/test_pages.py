"""The pages over HTTP per role (cookie sign-in as a browser does): visibility, figures, sorting, sign-in rules."""

from __future__ import annotations

import re
from html import unescape
from typing import Any

import pytest
import requests
from _server_helpers import Client
from _ui_world import expected_pooled

from medperf_core.testing.server import DEMO_EMAILS, ServerProcess


def signed_in(server: ServerProcess, role: str) -> requests.Session:
    session = requests.Session()
    response = session.post(f"{server.url}/ui/login", data={"email": DEMO_EMAILS[role], "next": "/ui/"})
    assert response.status_code == 200 and response.url.endswith("/ui/"), response.text
    assert "medperf_ui_token" in session.cookies.get_dict()
    return session


def page(session: requests.Session, server: ServerProcess, path: str) -> str:
    response = session.get(f"{server.url}{path}", allow_redirects=False)
    assert response.status_code == 200, response.text
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]
    return response.text


def table_rows(html: str, table_id: str) -> list[str]:
    body = html.split(f'id="{table_id}"', 1)[1].split("</table>", 1)[0]
    return re.findall(r"<tr data-model=\"(\d+)\"", body.split("<tbody>", 1)[1])


def cell(html: str, model: int, metric: str) -> float:
    row = html.split('id="leaderboard"', 1)[1].split(f'<tr data-model="{model}">', 1)[1].split("</tr>", 1)[0]
    return float(re.search(rf'data-metric="{re.escape(metric)}" data-value="([^"]+)"', row)[1])  # type: ignore[index]


@pytest.mark.parametrize(("role", "sites"), [("bo", [1, 2]), ("admin", [1, 2]), ("do", [1]), ("mo", [2])])
def test_each_role_sees_the_pooled_figures_of_its_sites_and_only_the_names_the_api_shows(
    server: ServerProcess, clients: dict[str, Client], world_of_sites: dict[str, Any], role: str, sites: list[int]
) -> None:
    b = world_of_sites["benchmark"]["id"]
    html = page(signed_in(server, role), server, f"/ui/benchmarks/{b}")
    models = world_of_sites["models"]
    for key, model in models.items():
        assert cell(html, model, "accuracy") == pytest.approx(expected_pooled(sites, key, 0), abs=1e-12)
        assert cell(html, model, "auc") == pytest.approx(expected_pooled(sites, key, 1), abs=1e-12)
    for dataset in world_of_sites["datasets"].values():
        shown = clients[role].get(f"/datasets/{dataset['id']}/").status_code == 200
        assert (dataset["name"] in html) == shown, (role, dataset["id"])
        assert (dataset["location"] in html) == shown, (role, dataset["id"])
    assert world_of_sites["benchmark"]["description"] in unescape(html)
    for container in ("data_preparation_mlcube", "reference_model_mlcube", "data_evaluator_mlcube"):
        assert clients[role].ok("GET", f"/mlcubes/{world_of_sites['benchmark'][container]}/")["name"] in html


def test_sorting_reorders_rows_and_keeps_ranks(server: ServerProcess, world_of_sites: dict[str, Any]) -> None:
    b, models = world_of_sites["benchmark"]["id"], world_of_sites["models"]
    session = signed_in(server, "bo")
    by_rank = page(session, server, f"/ui/benchmarks/{b}")
    assert table_rows(by_rank, "leaderboard") == [str(models["ref"]), str(models["x"])]  # accuracy .82 > .72
    by_auc = page(session, server, f"/ui/benchmarks/{b}?sort=auc&dir=desc")
    assert table_rows(by_auc, "leaderboard") == [str(models["x"]), str(models["ref"])]  # auc .946 > .88
    assert 'aria-sort="descending"' in by_auc and "?sort=auc&amp;dir=asc" in by_auc  # the header flips it
    ascending = page(session, server, f"/ui/benchmarks/{b}?sort=auc&dir=asc")
    assert table_rows(ascending, "leaderboard") == [str(models["ref"]), str(models["x"])]
    nonsense = page(session, server, f"/ui/benchmarks/{b}?sort=%3Cscript%3E&dir=sideways")
    assert table_rows(nonsense, "leaderboard") == table_rows(by_rank, "leaderboard") and "<script" not in nonsense


def test_pages_need_a_viewer(server: ServerProcess, world_of_sites: dict[str, Any]) -> None:
    b = world_of_sites["benchmark"]["id"]
    anonymous = requests.get(f"{server.url}/ui/benchmarks/{b}", allow_redirects=False)
    assert anonymous.status_code == 303
    assert anonymous.headers["location"] == f"/ui/login?next=%2Fui%2Fbenchmarks%2F{b}"
    forged = requests.get(f"{server.url}/ui/", cookies={"medperf_ui_token": "bm9ib2R5.deadbeef"}, allow_redirects=False)
    assert forged.status_code == 303
    login = requests.get(f"{server.url}/ui/login")
    assert login.status_code == 200 and 'id="login-testdo"' in login.text  # the local provider's demo users


def test_sign_in_by_token_refuses_a_bad_one_and_never_redirects_elsewhere(server: ServerProcess) -> None:
    bad = requests.post(f"{server.url}/ui/login", data={"token": "not-a-token"}, allow_redirects=False)
    assert bad.status_code == 401 and 'id="login-error"' in bad.text and "token" in bad.text
    good = requests.post(
        f"{server.url}/ui/login",
        data={"token": server.token(DEMO_EMAILS["do"]), "next": "https://elsewhere.example/"},
        allow_redirects=False,
    )
    assert good.status_code == 303 and good.headers["location"] == "/ui/"
    cookie = good.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/ui" in cookie
    unknown = requests.post(f"{server.url}/ui/login", data={"email": "nobody@example.com"}, allow_redirects=False)
    assert unknown.status_code == 401 and "not a demo user" in unknown.text


def test_the_index_lists_the_benchmarks_and_unknown_ones_are_404(
    server: ServerProcess, world_of_sites: dict[str, Any]
) -> None:
    session = signed_in(server, "do")
    index = page(session, server, "/ui/")
    assert f'href="/ui/benchmarks/{world_of_sites["benchmark"]["id"]}"' in index
    assert world_of_sites["benchmark"]["name"] in index
    missing = session.get(f"{server.url}/ui/benchmarks/999999")
    assert missing.status_code == 404 and "benchmark 999999 not found" in missing.text
    css = session.get(f"{server.url}/ui/static/style.css")
    assert css.status_code == 200 and "table.data" in css.text


def test_signing_out_forgets_the_viewer(server: ServerProcess) -> None:
    session = signed_in(server, "bo")
    out = session.post(f"{server.url}/ui/logout", allow_redirects=False)
    assert out.status_code == 303
    assert session.get(f"{server.url}/ui/", allow_redirects=False).status_code == 303
