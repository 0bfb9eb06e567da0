"""Synthetic carrier wording: a template grammar over general parcel-logistics vocabulary.

The simulator's six carriers speak a deliberately small phrasebook. Real carriers say the same
things in many more ways: customer-facing sentences with reasons and next steps, terse scan
lines, legacy ALL CAPS, prefixes such as "Exception:" and facility names. This module writes
such variants from templates, so the classifier learns *what* is being said (an address
problem, a missed connection, a refusal) rather than one carrier's phrasing.

Templates use ``{a|b|c}`` for alternatives (an empty alternative means "leave out"); every
template expands to the cartesian product of its alternatives, sampled down to a cap. The
phrasings are this project's own, written from the canonical taxonomy (DESIGN §4) and common
carrier vocabulary (AfterShip, EasyPost, Shippo, ANSI X12 214 reasons); they are not taken from
any evaluation data set. Everything is deterministic per seed.
"""

from __future__ import annotations

import itertools
import re
import zlib

import numpy as np
import pandas as pd

from app.triage.classifier_labels import Label

L = Label

_PKG = "{package|parcel|shipment|item}"
_WHO = "{recipient|receiver|consignee|customer|addressee}"
_FAC = "{facility|hub|sort center|terminal|depot|distribution center|station|gateway}"

TEMPLATES: dict[Label, tuple[str, ...]] = {
    L.INFO_RECEIVED: (
        "{We have|Carrier has} received {the|your} {shipment|order|label} {information|details|"
        "data}{| from the sender| electronically}",
        "{The sender|The shipper|The merchant} is preparing {your|the} " + _PKG + "",
        "{Shipment|Parcel|Order} {created|registered|booked}{| in our system| by the sender}",
        "{Label|Shipment} ready{| to ship}, {awaiting|waiting for} {pickup|drop off|collection "
        "from sender}",
        "{Pickup|Collection} {requested|scheduled|booked} {by the sender|by the shipper|}",
        "{Expected|Estimated} {pickup|handover|dispatch} {date|time} {provided|confirmed}",
        "{Shipper|Sender|Merchant|Seller} created a label, {we have|carrier has} not received "
        "the " + _PKG + " yet",
        "{Shipment|Order|Electronic shipment|Advance shipment|Billing} {information|data|"
        "details} {received|sent to carrier|transmitted|submitted}",
        "{Shipping label|Label} {created|printed|generated}{|, awaiting item|, not yet handed "
        "over}",
        "{Awaiting|Waiting for} {item|parcel|package|shipment} {handover|drop off|pickup|"
        "from sender}",
        "{Pre-advice|Pre-alert|Pre-shipment information} {received|sent}",
        "{Order processed|Processed}: ready for {carrier|pickup|dispatch}",
        "The " + _PKG + " has been {registered|announced|notified} {electronically|by the "
        "sender|by the shipper}",
        "{Manifest|Shipment manifest} {received|data received|uploaded}",
        "{Label|Shipment} {information|data} {received|available}{|, " + _PKG + " not yet scanned}",
    ),
    L.IN_TRANSIT: (
        "{Clearance processing|Customs clearance|Import clearance} {in progress|started|"
        "underway|ongoing}",
        "{Shipment|Package} {submitted|presented} to customs{| for clearance}",
        "{Customs|Clearance} status updated",
        "{Delivered|Handed over|Tendered} to {the postal service|the local post office|the "
        "partner carrier|the destination carrier} for {final delivery|delivery}",
        "{Arrived at|At|In} the {delivery|local delivery|destination} {facility|depot|station|"
        "center}",
        "{Processed|Sorted|Prepared|Scheduled} for delivery{| tomorrow| on the next business day}",
        "{Estimated|Expected|Scheduled} delivery {date|time|window} {updated|provided|set|"
        "confirmed}",
        "{Pickup scan|Picked up|Collected by courier|Pickup completed|Origin pickup scan}",
        "{Your|The} " + _PKG + " is on the way to the {pickup point|parcel shop|post office|"
        "local depot}",
        "{Shipment|Package} {received|accepted} {at origin|by the carrier|at the drop off point}",
        "{The|Your} " + _PKG + " {has been|was} {processed|sorted|scanned} {in|at} the "
        "{parcel center|sorting center|facility|hub}",
        "{Shipment|Consignment} {in transit|on the move|moving} {to|towards} "
        "{destination|the delivery depot|the recipient's country}",
        "{Transit|Transfer} {through|via} {hub|gateway|facility}",
        "{Arrived at|Arrival at|Received at|Reached the} {origin|destination|local|regional|}"
        " " + _FAC,
        "{Departed|Departed from|Left|Leaving} {the|our|} {origin|destination|regional|} " + _FAC,
        "{Processed|Processing|Sorted|Scanned} {at|through|in} {the|our|} " + _FAC,
        "{Shipment|Package|Parcel} {picked up|collected|accepted|received} {by carrier|from "
        "shipper|at origin|}",
        "{In transit|On the way|En route|Moving through network}{| to next facility| to "
        "destination| to delivery depot}",
        "{Origin|Destination|Import|Export|Arrival|Departure} scan",
        "{Customs clearance|Clearance|Import clearance} {completed|complete}{|, released}",
        "{Released|Cleared} by {customs|the customs authority}",
        "{Transferred|Handed over|Forwarded} to {partner carrier|local delivery partner|"
        "destination carrier|postal service}",
        "{Loaded onto|Unloaded from} {trailer|truck|aircraft|linehaul vehicle|container}",
        "{Flight|Vessel|Linehaul truck} {departed|arrived}",
        "{Arrived in|Reached} {destination|the destination} country",
        "Your " + _PKG + " is on its way{| to the delivery area| to the destination facility}",
        "{Dropped off|Drop-off} at {access point|post office|drop-off location} by "
        "{shipper|sender}",
        "Shipment {tendered|handed} to carrier",
    ),
    L.OUT_FOR_DELIVERY: (
        "The " + _PKG + " {has been|was} loaded {onto|on} the delivery vehicle",
        "{Out for|On} delivery {with|by} {courier|driver|delivery partner}",
        "{Expected|Estimated} delivery today{| between 0 and 0| by end of day}",
        "Out for delivery{| today}",
        "{Loaded on|On} {delivery vehicle|the delivery van|vehicle for delivery}",
        "With {delivery courier|courier|driver} for delivery",
        "{Your|The} " + _PKG + " will be delivered today",
        "{The driver|Our courier} is on the way{| to you| to the delivery address}",
        "Delivery {scheduled|planned} for today",
        "{Shipment|Parcel} is out with {courier|driver} for delivery",
    ),
    L.AVAILABLE_FOR_PICKUP: (
        "The " + _PKG + " {is|has arrived and is} {ready|available} for {pickup|collection}{"
        "| by the recipient| at the selected location}",
        "{Collect|Pick up} your " + _PKG + " {at|from} the {post office|parcel shop|pickup "
        "point|locker|branch} {within 0 days|before the deadline|with your ID}",
        "{Stored|Deposited} {in|at} {a parcel locker|the pickup point|the post office} for "
        "{collection|pickup}",
        "{Ready|Available|Waiting} for {pickup|collection} at {access point|parcel shop|"
        "post office|pickup point|parcel locker|service point|retail location|branch}",
        "{Held|Kept} at {access point|parcel shop|post office|pickup point|the local "
        "facility} for {customer|recipient} {pickup|collection}",
        "Your " + _PKG + " can be {collected|picked up} {from|at} {the parcel shop|the "
        "pickup point|the post office|the locker}",
        "{Delivered to|Dropped at} {access point|parcel shop|parcel locker|pickup point}, "
        "{awaiting|waiting for} {collection|pickup}",
        "{Awaiting|Waiting for} collection by {recipient|customer}",
    ),
    L.DELIVERED: (
        "{Your|The} " + _PKG + " {has been|was} delivered{| successfully| to the recipient| "
        "at the front door}",
        "{Delivered|Delivery made} {in|into} {mailbox|letterbox|parcel box}",
        "{Recipient|Consignee|Customer} {received|collected|picked up} the " + _PKG + "",
        "{Shipment|Package} {delivered|handed over}{|, signed by RECEPTION|, signed by M MUELLER}",
        "Delivered{| to " + _WHO + "| to front door| to neighbor| to mailbox| at reception| to"
        " safe place| to garage}",
        "{Signed for|Received} by {recipient|consignee|J SMITH|reception|neighbor}",
        "{Left at|Placed at} {front door|porch|back door|reception|mailroom}",
        "{Delivery|Shipment delivery} {completed|successful|confirmed}",
        "{Picked up|Collected} by {recipient|customer|consignee} {at|from} {access point|"
        "parcel shop|pickup point|post office}",
        "{Shipment|Package|Parcel} delivered{| to consignee|, signature obtained}",
        "Handed over to {recipient|consignee|neighbor}",
        "Proof of delivery {available|recorded}",
    ),
    L.ADDRESS_ISSUE: (
        "{We|The driver|Our courier} could not find the {address|street|house|building}",
        "{Address|Street name|House number} {not found|unknown|incorrect}{|, "
        "please contact the sender|, recipient notified}",
        "{Incorrect|Incomplete|Missing} {apartment|suite|unit|floor|building} {number|information}",
        "The {consignee|recipient} {name|address} {is incorrect|does not match}",
        "Delivery address {corrected|changed|updated}{| by the carrier| at recipient's request}",
        "The {address|street number|house number|apartment number|suite number|postal code|"
        "zip code|street name|city name} {is incorrect|is incomplete|is missing|is invalid|"
        "could not be found|does not exist}{|. This may delay delivery|. Delivery will be "
        "delayed}",
        "{Incorrect|Incomplete|Invalid|Insufficient|Wrong|Bad|Unknown|Illegible} "
        "{address|delivery address|consignee address}{| - delivery not possible| - update "
        "required}",
        "Address {correction|update|verification} {required|requested|needed|in progress}",
        "{Recipient|Consignee|Addressee} {moved|has moved|unknown at this address|no longer "
        "at this address}{|, no forwarding address}",
        "Undeliverable as addressed",
        "No such {street|number|address}",
        "We are {attempting|trying} to {update|verify|correct} the {address|delivery address}",
        "The {receiver|recipient|consignee} {name|address} {is not recognized|is unknown}",
        "{Delivery address|Address} could not be {located|found|verified}",
    ),
    L.RECIPIENT_UNAVAILABLE: (
        "{We|The driver|Our courier} {attempted|tried} to deliver{| the " + _PKG + "}"
        "{| but nobody was home| but the business was closed| but no one answered}",
        "{The|} {recipient|receiver|consignee} could not be {reached|contacted|found at home}",
        "{Delivery|Delivery attempt} {not possible|unsuccessful|failed}: {recipient|consignee|"
        "customer} {absent|not at home|not available}",
        "{Receiver|Recipient} {requested|arranged} {a later delivery|delivery on another day|"
        "redelivery}",
        "{Unable|Not able} to {access|enter} {the building|the premises|the delivery location}",
        "{Recipient|Receiver|Consignee|Customer} {not available|unavailable|not home|absent|"
        "not present}{| at time of delivery| on delivery attempt}",
        "{Delivery attempted|Attempted delivery|First delivery attempt|Second delivery "
        "attempt|Final delivery attempt}{: |, }{nobody home|no one available|business closed|"
        "recipient not available|no answer at door}",
        "{Notice|Card|Delivery notice|Note} left{| for recipient|, we will try again}",
        "{Business|Company|Office|Store} closed{| at time of delivery| on arrival}",
        "We missed you{| today}{|, we will try again tomorrow}",
        "No one was available to {receive|sign for} the " + _PKG,
        "Customer not in{|; second attempt tomorrow|; redelivery scheduled}",
        "No access to {building|delivery location|premises|apartment block}",
        "{Gate|Door|Building entrance} {locked|closed|code required}",
        "No safe place to leave the " + _PKG,
        "{Mailbox|Letterbox} {full|blocked}",
        "Receiver was not present, delivery {rescheduled|will be attempted again}",
    ),
    L.REFUSED: (
        "{The|} {recipient|receiver|consignee} {refused|declined|rejected} the " + _PKG + ""
        "{| at the door| on delivery}",
        "{Refused|Rejected} at {delivery|the door|destination}{| by the recipient}",
        "Refused by {recipient|consignee|receiver|customer}",
        "{Recipient|Consignee|Receiver} refused {delivery|the package|the shipment|to accept "
        "the package}",
        "Delivery refused{|: not ordered|: damaged|: charges not accepted|: no reason given}",
        "{Shipment|Package} {declined|rejected} by {consignee|recipient|receiver}",
        "The {receiver|recipient} did not want the " + _PKG,
        "Acceptance {refused|declined}",
        "{Consignee|Recipient} refused to pay {duties|the COD amount|charges}",
    ),
    L.CUSTOMS_HOLD: (
        "{Shipment|Package} {is|was} {held|stopped|detained} {by|at} customs{| pending "
        "documents| pending payment| for inspection}",
        "{Clearance|Customs clearance} {delay|delayed|problem|issue}{| - documents required| - "
        "valuation query| - awaiting recipient}",
        "{Importer|Recipient|Consignee} {must|needs to} {pay|settle} {duties|import charges|"
        "taxes}{| before release}",
        "{Waiting|Awaiting} {for|} {recipient|importer|consignee} {information|documents|"
        "payment} {for clearance|for customs}",
        "{Held|Delayed|Pending|Waiting} {in|at|by} customs",
        "{Customs clearance|Clearance|Import clearance} {delay|delayed|pending|on hold}",
        "{Awaiting|Pending} {customs clearance|clearance|customs release}",
        "{Import|Export|Customs} {documents|paperwork|license|permit} {required|missing|needed}",
        "{Commercial invoice|Pro forma invoice|Customs declaration} {required|missing|"
        "incorrect|incomplete}",
        "{Duties|Duties and taxes|Import taxes|VAT|Import charges} {due|outstanding|unpaid|"
        "must be paid}{| before delivery}",
        "Held for payment of {duties|taxes|import charges}",
        "Customs {inspection|examination|query|hold}",
        "The " + _PKG + " is awaiting clearance by the {customs authority|broker}",
        "{Brokerage|Broker} {information|authorization} required",
        "Recipient must provide {tax ID|import documents|EORI number}",
        "Customs requires additional information",
    ),
    L.DAMAGED: (
        "{We|Our team} found {damage|the package damaged|the contents damaged} {during "
        "sorting|at the facility|on arrival}",
        "{Package|Parcel|Shipment} {damaged|broken}{|, sender notified|, claim required|, "
        "contents under review}",
        "{Package|Parcel|Shipment|Item|Contents} {damaged|was damaged|reported damaged|arrived "
        "damaged}{| in transit| during handling}",
        "Damage {reported|found|discovered} {during handling|in transit|at facility}",
        "{Packaging|Box|Carton|Outer packaging} {damaged|crushed|torn|wet}",
        "{Repackaged|Rewrapped|Re-taped} {due to damage|at facility}",
        "Contents {broken|leaking|spilled}",
        "Damage claim {opened|initiated}",
        "The " + _PKG + " was damaged{|; the sender is being notified|; contents are being "
        "evaluated}",
    ),
    L.LOST: (
        "{Your|The} " + _PKG + " {has not been|was not} {scanned|seen|located} {for several "
        "days|since 0 days|recently}",
        "{We are|We're} {searching for|looking for|tracing} {your|the} " + _PKG + "",
        "{Shipment|Package|Parcel} {reported|declared|presumed} {lost|missing}",
        "{Package|Parcel|Shipment} {lost|missing|cannot be located|could not be located|not found}",
        "We {are unable to|cannot} locate {your|the} {package|shipment|parcel}",
        "{Search|Trace|Investigation|Tracer} {initiated|in progress|started|opened}",
        "{Declared|Considered} lost",
        "Missing {package|shipment|piece}",
        "No scan for {several days|an extended period}{|, investigation opened}",
    ),
    L.WEATHER_DELAY: (
        "{Weather|Storm|Snow|Flooding|Hurricane|Wildfire} {conditions|} {are|is} {delaying|"
        "affecting|disrupting} {deliveries|transport|service} in {this|the} {area|region}",
        "{Delivery|Transport} {delayed|suspended} {because of|due to} {weather|a natural "
        "disaster|an emergency|force majeure}",
        "{Severe|Adverse|Extreme|Bad|Inclement} weather {conditions|}{| may} {delay|delayed|"
        "affect} {delivery|deliveries|service}",
        "{Delay|Delayed} due to {weather|a storm|snow|flooding|a hurricane|ice|fog|wildfire|"
        "an earthquake|a natural disaster}",
        "{Weather|Natural disaster|Emergency situation|Force majeure} {delay|event|disruption}",
        "Service {suspended|interrupted} due to {weather|flooding|a natural disaster}",
        "Roads closed due to {snow|flooding|storm damage}",
        "{Flight|Linehaul} delayed {by|due to} weather",
    ),
    L.CARRIER_DELAY: (
        "{A|} {mechanical|operational|technical|network} {failure|issue|problem} {has|} "
        "{caused|delayed} {a delay|the delivery|the shipment}",
        "{The|Your} " + _PKG + " {missed|did not make} {the|its} {scheduled|planned} "
        "{connection|flight|truck|transfer}",
        "{We|The carrier} {rescheduled|postponed} {the|your} delivery{| to the next business day}",
        "{Shipment|Package} {arrived|was received} {late|after the cut-off} at {the|our} "
        "{facility|hub|depot}",
        "{Delivery|Transit} {time|date} {extended|changed|revised} {by the carrier|due to "
        "operational reasons|due to high volume}",
        "{Shipment|Package|Delivery} {delayed|delay} {due to|-} {operational reasons|high "
        "volume|a mechanical issue|a vehicle breakdown|a late trailer|a missed connection|"
        "network congestion|capacity constraints|a sorting error}",
        "Missed {connection|transfer|flight|cut-off|linehaul}",
        "{Mis-sorted|Missorted|Misrouted|Missent}{|, rerouted| - being rerouted}",
        "Sent to {wrong|incorrect} {facility|depot|hub}",
        "Not loaded {on scheduled flight|on scheduled vehicle|as planned}",
        "Delivery {rescheduled|will be delayed} by {one business day|a day}",
        "{Late|Delayed} {arrival|trailer|flight|truck}",
        "{Flight|Train|Ferry|Vessel} {cancelled|delayed}",
        "Transportation {delay|issue}",
        "{Running|Shipment is running} behind schedule",
        "{Vehicle|Truck|Van} breakdown",
        "Our network is experiencing delays",
        "Shipment will arrive later than {expected|planned}",
    ),
    L.HELD_BY_CARRIER_SECURITY: (
        "{Shipment|Package|Contents} {held|stopped|rejected} {due to|because of} "
        "{dangerous goods|hazardous materials|prohibited contents|security reasons|"
        "regulatory requirements}",
        "{Contents|Item|Commodity} {not allowed|not permitted|prohibited|restricted} "
        "{for|in} {air transport|our network|this destination}",
        "{Dangerous goods|Hazardous materials|Lithium batteries} {detected|not declared|"
        "declaration missing|require documentation}",
        "{Prohibited|Restricted|Forbidden} {item|commodity|contents}{| - shipment stopped| not "
        "accepted}",
        "{Held|Stopped|Detained} {for security check|for security screening|by security}",
        "Security {inspection|screening|hold|check}",
        "{Regulatory|Government agency} {hold|review|inspection}",
        "Contents not permitted for transport",
        "Shipment rejected by {airline|carrier} security",
        "Held due to {export control|sanctions screening|an embargo}",
    ),
    L.RETURN_TO_SENDER: (
        "{Shipment|Package|Parcel} {will be|is being|has been} {returned|sent back} to "
        "{the|} {sender|shipper|origin}{| at the sender's request| as requested}",
        "{Returned|Return} to {sender|shipper}: {undeliverable|refused|not collected|"
        "address unknown|recipient moved}",
        "Return to {sender|shipper}{| initiated| in progress}",
        "{Returning|Being returned|Returned} to {sender|shipper|origin}",
        "The " + _PKG + " {is being|will be|was} returned to the {sender|shipper}{| because the "
        "address is incorrect| after several delivery attempts| because it was refused| "
        "because it was not collected}",
        "Shipment on its way back to the {sender|shipper}",
        "Return {shipment|parcel} {in transit|delivered to sender}",
        "Sent back to {shipper|sender}",
    ),
    L.CANCELLED: (
        "{The|} {sender|shipper|merchant} {cancelled|canceled|voided} {the|this} "
        "{shipment|label|order}",
        "{Shipment|Order|Label} {was|has been} {cancelled|canceled|voided}",
        "{Shipment|Label|Order|Pickup} {cancelled|canceled|voided}{| by sender| by shipper| "
        "by customer}",
        "Cancelled at {shipper|sender}'s request",
        "Shipment information {cancelled|voided}",
        "Void shipment",
    ),
    L.OTHER_EXCEPTION: (
        "{Pickup|Collection} {attempted|failed|missed}{|: shipper not available|: package not "
        "ready|: sender closed}",
        "{Held|Kept|Stored} at {our|the} {facility|depot|terminal|warehouse}{| pending "
        "instructions| at the shipper's request| for further information}",
        "{Delivery|Shipment} {changed|redirected|rerouted} at {the|} {customer|shipper|"
        "receiver}'s request",
        "{Incorrect|Invalid|Missing} {service|reference|account number|piece count|shipment "
        "details}",
        "{An|} {unexpected|unforeseen} {issue|event|problem} {occurred|has occurred}{| with "
        "the shipment| during transit}",
        "{Shipment|Package} {requires|needs} {attention|additional handling|further information}",
        "{Exception|Problem|Issue} {reported|recorded|occurred}{| at facility| in transit}",
        "{Delivery|Shipment} exception",
        "Exception: {see details|contact customer service|action required}",
        "{Cash on delivery|COD} {payment not received|amount not collected|not paid}",
        "Unable to collect payment{| at the door}",
        "{Label|Barcode} {unreadable|damaged|missing}{|; relabeled}",
        "Shipment {on hold|held} {at facility|pending further information|at shipper's request}",
        "{Data|Weight|Dimension|Piece count} discrepancy",
        "{Incorrect|Missing} shipment information",
        "Additional handling required",
        "Unable to deliver{| - reason unknown}",
    ),
    L.UNKNOWN: (
        "{Status|Tracking information|Information} updated",
        "Status update",
        "{Event|Scan} recorded",
        "See details",
    ),
}

_PREFIXES: dict[str, tuple[str, ...]] = {
    "exception": ("", "", "Exception: ", "Delivery exception: ", "Update: ", "Alert - "),
    "normal": ("", "", "", "Update: ", "Status: "),
}
# Boilerplate that carriers append whatever the reason: shared by all labels of a kind, so
# the model learns that it says nothing about the category.
_TAILS: dict[str, tuple[str, ...]] = {
    "exception": (
        "This may delay delivery.",
        "Please contact customer service.",
        "We'll update the delivery date as soon as possible.",
        "The sender has been notified.",
        "We are working to resolve this.",
        "Delivery will be delayed.",
        "Further information will follow.",
        "We apologize for the inconvenience.",
    ),
    "normal": (
        "Tracking will be updated.",
        "More information will follow.",
        "Thank you for your patience.",
        "Track your shipment online.",
    ),
}
_CITIES = (
    "Dortmund",
    "Lyon",
    "Rotterdam",
    "Warsaw",
    "Milan",
    "Madrid",
    "Vienna",
    "Chicago",
    "Louisville",
    "Leipzig",
    "Memphis",
    "Antwerp",
)
_SUFFIXES = ("", "", "", " - {CITY}", " at {city}", ", {city}", " ({city})")
_ALT = re.compile(r"\{([^{}]*)\}")


def expand(template: str, *, cap: int, rng: np.random.Generator) -> list[str]:
    """All variants of a template (sampled down to ``cap``), whitespace tidied."""
    options = [g.split("|") for g in _ALT.findall(template)]
    pieces = _ALT.split(template)[::2]
    total = int(np.prod([len(o) for o in options])) if options else 1
    if total <= cap:
        combos = list(itertools.product(*options))
    else:
        combos = [tuple(o[rng.integers(len(o))] for o in options) for _ in range(cap)]
    out = []
    for combo in combos:
        text = pieces[0] + "".join(c + p for c, p in zip(combo, pieces[1:], strict=True))
        text = re.sub(r"\s+", " ", text).strip().replace(" ,", ",").replace(" .", ".")
        out.append(text[:1].upper() + text[1:])
    return list(dict.fromkeys(out))


def _caps(text: str) -> str:
    from training.simulator.wording import ascii_caps

    return ascii_caps(text)


def synthetic_wording(seed: int = 0, per_template: int = 24) -> pd.DataFrame:
    """Synthetic events: ``carrier, code, description, label, source, family`` (no codes)."""
    rng = np.random.default_rng([seed, zlib.crc32(b"triage-synth")])
    rows: list[tuple[str, str]] = []
    for label, templates in TEMPLATES.items():
        kind = (
            "exception"
            if label.value
            not in {
                "info_received",
                "in_transit",
                "out_for_delivery",
                "available_for_pickup",
                "delivered",
                "unknown",
            }
            else "normal"
        )
        for template in templates:
            for text in expand(template, cap=per_template, rng=rng):
                prefix = _PREFIXES[kind][rng.integers(len(_PREFIXES[kind]))]
                city = _CITIES[rng.integers(len(_CITIES))]
                suffix = _SUFFIXES[rng.integers(len(_SUFFIXES))].format(
                    city=city, CITY=city.upper()
                )
                phrase = f"{prefix}{text}{suffix}"
                if rng.random() < 0.25:
                    tail = _TAILS[kind][rng.integers(len(_TAILS[kind]))]
                    phrase = f"{phrase.rstrip('.')}. {tail}"
                style = rng.random()
                if style < 0.2:
                    phrase = _caps(phrase)
                elif style < 0.3:
                    phrase = phrase.lower()
                rows.append((phrase, label.value))
    frame = pd.DataFrame(rows, columns=["description", "label"]).drop_duplicates()
    frame.insert(0, "code", None)
    frame.insert(0, "carrier", "synthetic")
    frame["source"] = "synthetic"
    frame["family"] = "synthetic"
    return frame.reset_index(drop=True)
