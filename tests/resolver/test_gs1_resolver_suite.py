"""The checks of GS1's resolver test suite (github.com/gs1/GS1DL-resolver-testsuite, the page
behind ref.gs1.org/test-suites/resolver/), made here in its order against a unit's Digital
Link URI through the test client: the suite itself needs the network (its helper script,
GS1's schemas). Each check names the suite's test id; the linkset schema is this project's
(tests/resolver/schemas/), the description file's too."""
from __future__ import annotations

import json
from pathlib import Path

import jsonschema

from tests.resolver.conftest import BASE, GTIN

SCHEMAS = Path(__file__).parent / "schemas"
VOC = "https://ref.gs1.org/voc/"


def _location(response) -> str | None:
    return response.headers.get("Location")


def _without_link_type(url: str | None) -> str | None:
    """The suite compares a redirect's target without a linkType the resolver passed on."""
    return None if url is None else url.split("?linkType=")[0].split("&linkType=")[0]


def test_the_gs1_resolver_suite_finds_nothing_to_flag(client, shelf):
    dl = shelf.unit_path(3)
    results: dict[str, bool] = {}

    description = client.get("/.well-known/gs1resolver", headers={"Accept": "application/json"})
    schema = json.loads((SCHEMAS / "resolver-description.schema.json").read_text())
    results["rdFile"] = jsonschema.Draft7Validator(schema).is_valid(description.get_json())

    options = client.options(dl)  # the suite's getCorsHeaders: an OPTIONS request
    methods = options.headers.get("Access-Control-Allow-Methods", "")
    link = options.headers.get("Link", "")
    results["corsCheck"] = options.headers.get("Access-Control-Allow-Origin") == "*"
    results["methodsCheck"] = all(m in methods for m in ("GET", "HEAD", "OPTIONS"))
    results["linkOnRedirect"] = 'rel="linkset"' in link
    results["legacyLinkHeaders"] = 'rel="gs1:' not in link

    error = client.get(dl + "/foo")
    results["reportWith400"] = error.status_code == 400
    results["noErrorWith200"] = error.status_code != 200

    plain, slash = client.get(dl), client.get(dl + "/")
    results["trailingSlash"] = (plain.status_code, _location(plain)) == \
        (slash.status_code, _location(slash))
    results["basicWalkUp"] = client.get(f"/01/{GTIN}/10/KL8G").status_code != 404
    results["qsPassedOn"] = "foo=bar" in (_location(client.get(dl + "?foo=bar")) or "")
    results["ltLinksetNoRedirect"] = client.get(dl + "?linkType=linkset").status_code == 200
    results["ltAcceptHeader"] = client.get(
        dl + "?linkType=all", headers={"Accept": "application/linkset+json"}).status_code == 200

    response = client.get(dl, headers={"Accept": "application/linkset+json"})
    linkset = response.get_json()
    schema = json.loads((SCHEMAS / "linkset.schema.json").read_text())
    results["validLinkset"] = jsonschema.Draft7Validator(schema).is_valid(linkset)
    results["linksetJsonldCheck"] = any(
        'rel="http://www.w3.org/ns/json-ld#context"' in part and 'type="application/ld+json"' in part
        for part in response.headers.get("Link", "").split(","))
    results["declaredContentType"] = response.mimetype == "application/linkset+json"

    # linksetTests: from the URI's own anchor up, each link type at its most granular level.
    seen: set[str] = set()
    anchor = BASE + dl
    while anchor.count("/") >= 4:  # down to /01/{gtin}
        for entry in linkset["linkset"]:
            if entry["anchor"] != anchor:
                continue
            for key, links in entry.items():
                if not key.startswith(VOC) or key in seen:
                    continue
                seen.add(key)
                short = "gs1:" + key.removeprefix(VOC)
                if short == "gs1:defaultLink":
                    results["singleDefaulLink"] = len(links) == 1
                    results["defaultTarget"] = _location(client.get(dl)) == links[0]["href"]
                elif len(links) == 1:
                    target = _location(client.get(f"{dl}?linkType={short}"))
                    results["loFor" + short.replace(":", "")] = \
                        _without_link_type(target) == links[0]["href"]
        anchor = anchor.rsplit("/", 2)[0]
    results["defaultLinkExists"] = "singleDefaulLink" in results
    results["specificLinkTypeNotFound"] = \
        client.get(dl + "?linkType=gs1:nosuchlt").status_code == 404

    failed = sorted(check for check, passed in results.items() if not passed)
    assert failed == []
    assert {"loForgs1pip", "loForgs1traceability", "loForgs1epcis", "loForgs1certificationInfo",
            "loForgs1verificationService", "defaultTarget"} <= set(results)
