"""The file stores (traceability/storage.py): names that cannot leave their folder, whole files or
none, built at start-up from the configuration, and shared by every worker that mounts them."""
from __future__ import annotations

import io
import os

import pytest
import sqlalchemy as sa
from openpyxl import Workbook

from tests.conftest import make_test_app
from tests.factories import login, make_region, make_user, tax_code
from traceability.config import ConfigError
from traceability.extensions import db
from traceability.oversight.imports import COLUMNS
from traceability.registry.models import Product
from traceability.storage import LocalFolderStorage

BAD_NAMES = ["", "../secret", "a/../../secret", "/etc/passwd", "a//b", "a/./b", ".hidden",
             "a/.partial-x", "a\\b", "a\x00b"]


@pytest.fixture()
def store(tmp_path) -> LocalFolderStorage:
    return LocalFolderStorage(str(tmp_path / "files"))


def test_a_file_is_put_read_found_and_deleted_by_its_name(store):
    assert not store.exists("ab/cd.jpg") and store.local_path("ab/cd.jpg") is None
    store.put("ab/cd.jpg", b"first")
    assert store.exists("ab/cd.jpg")
    with store.open("ab/cd.jpg") as handle:
        assert handle.read() == b"first"
    store.put("ab/cd.jpg", b"second")  # replaced as a whole
    with open(store.local_path("ab/cd.jpg"), "rb") as handle:
        assert handle.read() == b"second"
    assert os.listdir(os.path.join(store.root, "ab")) == ["cd.jpg"]  # no partial file left
    store.delete("ab/cd.jpg")
    store.delete("ab/cd.jpg")  # already gone: not an error
    assert not store.exists("ab/cd.jpg")
    with pytest.raises(FileNotFoundError):
        store.open("ab/cd.jpg")


def test_the_folder_is_made_on_the_first_write_not_at_start_up(tmp_path):
    store = LocalFolderStorage(str(tmp_path / "not" / "yet"))
    assert not os.path.exists(store.root)
    store.put("x.pdf", b"%PDF-")
    assert os.path.isfile(os.path.join(str(tmp_path), "not", "yet", "x.pdf"))


@pytest.mark.parametrize("name", BAD_NAMES)
def test_a_name_outside_the_folder_or_hidden_is_never_a_file(store, tmp_path, name):
    (tmp_path / "secret").write_bytes(b"not for you")
    with pytest.raises(ValueError):
        store.put(name, b"x")
    with pytest.raises(FileNotFoundError):
        store.open(name)
    assert not store.exists(name) and store.local_path(name) is None
    store.delete(name)
    assert (tmp_path / "secret").read_bytes() == b"not for you"


def test_the_stores_are_built_at_start_up_from_the_two_folders(database_url, tmp_path):
    folder, private = str(tmp_path / "uploads"), str(tmp_path / "private")
    app = make_test_app(database_url, UPLOAD_FOLDER=folder, PRIVATE_FOLDER=private)
    try:
        stores = app.extensions["storage"]
        assert stores["media"].root == folder
        assert stores["private"].root == private
        assert stores["staging"].root == os.path.join(private, "imports")
        assert not os.path.exists(folder) and not os.path.exists(private)
    finally:
        with app.app_context():
            db.engine.dispose()


def test_the_private_folders_default_beside_the_public_one_in_the_instance_folder(database_url):
    app = make_test_app(database_url, UPLOAD_FOLDER=None, PRIVATE_FOLDER=None)  # the defaults
    try:
        public, private = app.extensions["storage"]["media"].root, app.extensions["storage"]["private"].root
        assert os.path.dirname(public) == os.path.dirname(private) == app.instance_path
        assert os.path.commonpath([public, private]) == app.instance_path
    finally:
        with app.app_context():
            db.engine.dispose()


@pytest.mark.parametrize("private", ["uploads/private", "."])
def test_a_private_folder_inside_the_public_one_or_around_it_stops_start_up(database_url, tmp_path,
                                                                           private):
    with pytest.raises(ConfigError, match="PRIVATE_FOLDER"):
        make_test_app(database_url, UPLOAD_FOLDER=str(tmp_path / "uploads"),
                      PRIVATE_FOLDER=str(tmp_path / private))


def _register_file(region_code: str) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append([heading for _key, heading, _required in COLUMNS])
    sheet.append(["Hợp tác xã Hai Máy", tax_code(), "", "Thôn 2", region_code, "Nước mắm", "Thực phẩm", 3,
                  None, "9/QĐ-UBND", "", "01/02/2025", ""])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def test_an_import_checked_by_one_worker_is_imported_by_another(database_url, tmp_path):
    """Two app instances, as two gunicorn workers (or hosts sharing the folder) would be: the
    dry run's token is all the second one needs."""
    region = make_region()
    officer = make_user("officer", regions=[region])
    db.session.commit()
    folder, private = str(tmp_path / "shared"), str(tmp_path / "shared-private")
    first, second = (make_test_app(database_url, UPLOAD_FOLDER=folder, PRIVATE_FOLDER=private)
                     for _ in range(2))
    try:
        one, other = first.test_client(), second.test_client()
        login(one, officer)
        login(other, officer)
        checked = one.post("/officer/imports", content_type="multipart/form-data",
                           data={"file": (io.BytesIO(_register_file(region.code)), "so.xlsx")})
        assert checked.status_code == 200
        token = checked.get_data(as_text=True).split('name="token" type="hidden" value="')[1][:64]
        done = other.post("/officer/imports/confirm", data={"token": token, "filename": "so.xlsx"})
        assert done.status_code == 200
        assert db.session.scalar(sa.select(sa.func.count(Product.id))) == 1
        # Imported once: the staged file is gone for every worker.
        assert one.post("/officer/imports/confirm",
                        data={"token": token, "filename": "so.xlsx"}).status_code == 404
    finally:
        for app in (first, second):
            with app.app_context():
                db.engine.dispose()
