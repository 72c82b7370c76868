"""One error contract: JSON under /api/, Vietnamese HTML pages elsewhere."""
from __future__ import annotations

from tests.conftest import make_test_app


def test_unknown_api_path_answers_the_json_contract(client):
    response = client.get("/api/v1/no-such-thing")
    assert response.status_code == 404
    assert response.is_json
    body = response.get_json()
    assert body == {"code": "not_found", "status": 404, "message": body["message"], "errors": {}}
    assert body["message"]


def test_unknown_page_answers_a_vietnamese_html_page(client):
    response = client.get("/khong-co-trang-nay")
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert "Không tìm thấy trang" in html
    assert '<html lang="vi">' in html


def test_unknown_page_in_english_when_asked(client):
    response = client.get("/khong-co-trang-nay", headers={"Accept-Language": "en"})
    assert response.status_code == 404
    assert '<html lang="en">' in response.get_data(as_text=True)


def test_bad_query_argument_names_the_field(client):
    response = client.get("/api/v1/certificates?stars=9")
    assert response.status_code == 422
    body = response.get_json()
    assert body["code"] == "validation_failed"
    assert "stars" in body["errors"]
    assert "stars" in body["message"]


def test_bad_path_type_is_a_json_404_not_a_500(client):
    response = client.get("/api/v1/products/abc")
    assert response.status_code == 404
    assert response.is_json


def test_wrong_method_is_405_with_the_contract(client):
    response = client.delete("/api/v1/products")
    assert response.status_code == 405
    assert response.get_json()["code"] == "method_not_allowed"


def test_a_missing_object_is_a_json_404_naming_it(client):
    response = client.get("/api/v1/producers/424242")
    assert response.status_code == 404
    assert "#424242" in response.get_json()["message"]


def test_an_unexpected_error_is_a_500_page_without_details(database_url):
    app = make_test_app(database_url, PROPAGATE_EXCEPTIONS=False)

    @app.get("/__boom")
    def boom():
        raise RuntimeError("secret detail")

    response = app.test_client().get("/__boom")
    assert response.status_code == 500
    assert "secret detail" not in response.get_data(as_text=True)
    assert "Lỗi hệ thống" in response.get_data(as_text=True)
