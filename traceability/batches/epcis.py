"""EPCIS 2.0 JSON-LD export of a batch's production diary (CBV 2.0 business steps).

Mapping of diary steps to EPCIS events:

* the batch's commissioning step — its first packing step, or its first step when it has
  none — is an ObjectEvent ADD, bizStep ``commissioning``, with ``ilmd`` lot data
  (``cbvmda:lotNumber``, ``cbvmda:productionDate``, ``cbvmda:itemExpirationDate``);
* harvest is also an ObjectEvent ADD ``commissioning``: the CBV has no harvesting step, and
  harvested produce comes into existence there (an OBSERVE would contradict the step);
* processing is a TransformationEvent whose input and output quantity lists name the lot;
* every other step is an ObjectEvent OBSERVE: packing → ``packing``, storage → ``storing``,
  shipping → ``shipping``, receiving → ``receiving``, lab test → ``inspecting``, input
  applied, planting and other → ``other`` with the step's facts as ``ocop:`` extensions.

What: the lot as a class-level ``quantityList`` entry whose ``epcClass`` is the lot's Digital
Link URI (``https://{host}/01/{gtin14}/10/{lot}``, or the ``/t/{code}/10/{lot}`` form for a
product without a GTIN). Where: ``bizLocation`` is the producer's SGLN when it has a GLN
inside its GS1 company prefix, else the GLN as a Digital Link ``/414/`` URI, else the
producer's URL; ``readPoint`` is a ``geo:`` URI when the step has coordinates.

``eventID`` is a UUID URN (``urn:uuid:…``, as in GS1's EPCIS 2.0 examples), name-based
(UUID version 5) on the diary event's chain hash (batches.services.event_digest): stable
across exports, unique (the hash covers the previous link), and any reader can recompute
it from the hash that /api/v1/batches/<id>/chain shows. It is not the CBV 2.0 event hash
(``ni:///sha-256;…?ver=CBV2.0``, CBV §8.9), which this export does not compute and so does
not claim.

Extension fields use the prefix ``ocop:`` for the fixed namespace ``EXTENSION_NAMESPACE``,
the same whatever address (PUBLIC_BASE_URL) the service runs on.

Corrections follow EPCIS 2.0 §7.4.1.4: the corrected event is repeated with the same
eventID and an ``errorDeclaration`` (reason ``incorrect_data``, ``correctiveEventIDs`` = the
corrections' eventIDs); the original stays in the document, as on the trace page.

The public document (``public=True``, served at ``/epcis`` + the lot's Digital Link path) has
the same events with only what the public trace page shows of them: step, time, place,
quantity, corrections, the lot's dates. A step's coordinates, notes, kind-specific facts
(inputs, doses, laboratory results, counterparties) and attachments are left out; they are
in the full document, which the API serves to those who may view the producer.
"""
from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any

from ..clock import VIETNAM
from ..gs1 import DigitalLink, build_uri, canonical_path
from ..models_base import utcnow
from .models import Batch, DiaryEvent, EventKind

EPCIS_CONTEXT = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"
EXTENSION_NAMESPACE = "https://ocop-trace.vn/ns/diary#"  # an identifier; nothing is fetched
# The namespace of the events' name-based UUIDs (RFC 9562, version 5).
EVENT_ID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, EXTENSION_NAMESPACE + "event")
MEDIA_TYPE = "application/ld+json"
PUBLIC_PREFIX = "/epcis"
TIME_ZONE_OFFSET = "+07:00"

OBSERVE_STEPS: dict[EventKind, str] = {
    EventKind.PACKING: "packing",
    EventKind.STORAGE: "storing",
    EventKind.SHIPPING: "shipping",
    EventKind.RECEIVING: "receiving",
    EventKind.LAB_TEST: "inspecting",
    EventKind.INPUT: "other",
    EventKind.PLANTING: "other",
    EventKind.OTHER: "other",
}

# UN/ECE Recommendation 20 codes for the units producers type most; others stay counts.
UOM_CODES = {
    "kg": "KGM", "g": "GRM", "gam": "GRM", "gram": "GRM", "tấn": "TNE", "tan": "TNE", "t": "TNE",
    "l": "LTR", "lít": "LTR", "lit": "LTR", "ml": "MLT", "m2": "MTK", "m²": "MTK", "ha": "HAR",
}

EXTENSION_FIELDS = {
    "input_name": "ocop:inputName",
    "dose": "ocop:dose",
    "pre_harvest_interval_days": "ocop:preHarvestIntervalDays",
    "laboratory": "ocop:laboratory",
    "result": "ocop:result",
    "counterparty": "ocop:counterparty",
}


def event_id(event: DiaryEvent) -> str:
    """The event's EPCIS eventID: a UUID URN named by its chain hash."""
    return f"urn:uuid:{uuid.uuid5(EVENT_ID_NAMESPACE, event.hash)}"


def _time(value: datetime) -> str:
    return value.astimezone(VIETNAM).isoformat(timespec="seconds")


def _utc(value: datetime) -> str:
    return value.astimezone(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def _number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


def lot_link(batch: Batch) -> DigitalLink:
    product = batch.product
    if product.gtin:
        return DigitalLink(gtin=product.gtin, lot=batch.lot)
    return DigitalLink(gtin=None, trace_code=product.trace_code, lot=batch.lot)


def lot_uri(batch: Batch, base_url: str) -> str:
    return build_uri(base_url, lot_link(batch))


def public_path(link: DigitalLink) -> str:
    """Where the public EPCIS document of the lot `link` names is: its Digital Link path
    (without serial, variant or attributes) under /epcis."""
    lot = DigitalLink(gtin=link.gtin, trace_code=link.trace_code, lot=link.lot)
    return PUBLIC_PREFIX + canonical_path(lot)


def producer_location(batch: Batch, base_url: str) -> str:
    producer = batch.product.producer
    gln, prefix = producer.gln, producer.gs1_company_prefix
    if gln and len(gln) == 13 and gln.isdigit():
        if prefix and gln.startswith(prefix) and len(prefix) < 13:
            return f"urn:epc:id:sgln:{prefix}.{gln[len(prefix):12]}.0"
        return f"{base_url.rstrip('/')}/414/{gln}"
    return f"{base_url.rstrip('/')}/api/v1/producers/{producer.id}"


def _quantity_element(event: DiaryEvent, epc_class: str) -> dict[str, Any]:
    element: dict[str, Any] = {"epcClass": epc_class}
    if event.quantity is not None:
        element["quantity"] = _number(event.quantity)
        uom = UOM_CODES.get((event.unit or "").strip().lower())
        if uom:
            element["uom"] = uom
    return element


def _commissioning_ids(events: list[DiaryEvent]) -> set[int]:
    """The batch's commissioning step and every correction of it (transitively)."""
    originals = [e for e in events if e.corrects_id is None]
    if not originals:
        return set()
    packing = [e for e in originals if e.kind == EventKind.PACKING]
    chosen = (packing or originals)[0]
    ids = {chosen.id}
    changed = True
    while changed:
        changed = False
        for e in events:
            if e.corrects_id in ids and e.id not in ids:
                ids.add(e.id)
                changed = True
    return ids


def _ilmd(batch: Batch, harvest: DiaryEvent | None = None) -> dict[str, Any]:
    ilmd: dict[str, Any] = {"cbvmda:lotNumber": batch.lot}
    if harvest is not None:
        ilmd["cbvmda:harvestStartDate"] = harvest.occurred_at.astimezone(VIETNAM).date().isoformat()
        return ilmd
    if isinstance(batch.production_date, date):
        ilmd["cbvmda:productionDate"] = batch.production_date.isoformat()
    if isinstance(batch.expiry_date, date):
        ilmd["cbvmda:itemExpirationDate"] = batch.expiry_date.isoformat()
    return ilmd


def epcis_event(event: DiaryEvent, batch: Batch, *, base_url: str, commissioning: bool,
                media_url: Any = None, public: bool = False) -> dict[str, Any]:
    """One diary step as an EPCIS 2.0 event (see the module docstring for the mapping);
    `public` leaves out what the public trace page does not show."""
    epc_class = lot_uri(batch, base_url)
    out: dict[str, Any] = {
        "eventTime": _time(event.occurred_at),
        "eventTimeZoneOffset": TIME_ZONE_OFFSET,
        "recordTime": _utc(event.recorded_at),
        "eventID": event_id(event),
    }
    if event.kind == EventKind.PROCESSING and not commissioning:
        out = {"type": "TransformationEvent", **out,
               "inputQuantityList": [_quantity_element(event, epc_class)],
               "outputQuantityList": [_quantity_element(event, epc_class)],
               "bizStep": "commissioning", "disposition": "in_progress"}
    elif commissioning or event.kind == EventKind.HARVEST:
        out = {"type": "ObjectEvent", **out, "epcList": [],
               "quantityList": [_quantity_element(event, epc_class)],
               "action": "ADD", "bizStep": "commissioning", "disposition": "active",
               "ilmd": _ilmd(batch, None if commissioning else event)}
    else:
        out = {"type": "ObjectEvent", **out, "epcList": [],
               "quantityList": [_quantity_element(event, epc_class)],
               "action": "OBSERVE", "bizStep": OBSERVE_STEPS[event.kind]}
        if event.kind == EventKind.SHIPPING:
            out["disposition"] = "in_transit"
    location = producer_location(batch, base_url)
    if event.latitude is not None and event.longitude is not None and not public:
        out["readPoint"] = {"id": f"geo:{_number(event.latitude)},{_number(event.longitude)}"}
    else:
        out["readPoint"] = {"id": location}
    out["bizLocation"] = {"id": location}
    out["ocop:kind"] = str(event.kind)
    out["ocop:seq"] = event.seq
    if event.place:
        out["ocop:place"] = event.place
    if event.unit:
        out["ocop:unit"] = event.unit
    if event.corrects is not None:
        out["ocop:corrects"] = event_id(event.corrects)
    if public:
        return out
    if event.notes:
        out["ocop:notes"] = event.notes
    for key, term in EXTENSION_FIELDS.items():
        if key in (event.details or {}):
            out[term] = event.details[key]
    if media_url is not None and event.attachments:
        out["ocop:attachments"] = [media_url(a.path) for a in event.attachments]
    return out


def batch_document(batch: Batch, events: list[DiaryEvent], *, base_url: str,
                   media_url: Any = None, now: datetime | None = None,
                   public: bool = False) -> dict[str, Any]:
    """The EPCIS document of a batch: every diary step, plus an error declaration per
    corrected step, placed just before its first correction. `public`: the public
    document (see the module docstring)."""
    commissioning = _commissioning_ids(events)
    corrections: dict[int, list[DiaryEvent]] = defaultdict(list)
    for event in events:
        if event.corrects_id is not None:
            corrections[event.corrects_id].append(event)
    by_id = {e.id: e for e in events}
    declared: set[int] = set()
    event_list: list[dict[str, Any]] = []
    for event in events:
        target = event.corrects_id
        if target is not None and target not in declared and target in by_id:
            declared.add(target)
            original = by_id[target]
            declaration = epcis_event(original, batch, base_url=base_url,
                                      commissioning=original.id in commissioning,
                                      media_url=media_url, public=public)
            declaration["recordTime"] = _utc(event.recorded_at)
            declaration["errorDeclaration"] = {
                "declarationTime": _time(event.recorded_at),
                "reason": "incorrect_data",
                "correctiveEventIDs": [event_id(c) for c in corrections[target]],
            }
            event_list.append(declaration)
        event_list.append(epcis_event(event, batch, base_url=base_url,
                                      commissioning=event.id in commissioning,
                                      media_url=media_url, public=public))
    return {
        "@context": [EPCIS_CONTEXT, {"ocop": EXTENSION_NAMESPACE}],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": _utc(now or utcnow()),
        "epcisBody": {"eventList": event_list},
    }
