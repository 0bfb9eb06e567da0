"""How each simulated carrier words its tracking events: codes plus free text, in several styles.

A triage model that only learns one carrier's code table is useless on the next carrier, so the
simulated carriers disagree the way real ones do:

* **styles** - ``sentence`` (customer-facing English), ``terse`` (short English status line),
  ``caps`` (legacy mainframe: ALL CAPS, abbreviations, no accents), ``driver`` (free text typed
  on a handheld: lower case, shorthand, typos, no code) and the languages ``de``, ``nl``,
  ``fr``, ``pl``. Every carrier uses at least three styles for every category.
* **codes** - numeric (``"417"``), two letters (``"KD"``), postal letter+digits (``"X17"``),
  SNAKE_CASE words, ``DLV/OK`` slash pairs, or none at all. Code *granularity* differs too: one
  carrier has a code per sub-reason, another one per category (and shares a few across
  categories), the courier only one per status - there the text is the only signal.
* **meanings** - each category has sub-reasons (recipient not home / business closed / notice
  left ...), so the same category reads differently within one carrier.

The phrasings are this project's own; they are deliberately not taken from any carrier's
documentation so that real carrier texts stay a fair, unseen evaluation set.
"""

from __future__ import annotations

import unicodedata
import zlib
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from app.models.enums import ExceptionCategory, TrackingStatus
from training.simulator.world import CARRIERS, Carrier

STYLES: tuple[str, ...] = ("sentence", "terse", "caps", "driver", "de", "nl", "fr", "pl")
CODE_SCHEMES: tuple[str, ...] = ("numeric3", "alpha2", "postal", "snake", "status2", "slash")

_S = TrackingStatus
_C = ExceptionCategory


@dataclass(frozen=True)
class Meaning:
    """One thing a carrier can say, in every style it can be said in."""

    key: str
    status: TrackingStatus
    category: ExceptionCategory | None
    slug: str  # SNAKE_CASE name, used by carriers whose codes are words
    group: str  # slash-code family; carriers with category-level codes share one per group
    place: bool  # scans that name the facility they happened at
    texts: dict[str, tuple[str, ...]]


def _m(key: str, status: TrackingStatus, category: ExceptionCategory | None, slug: str,
       group: str, place: bool = False, **texts: tuple[str, ...] | str) -> Meaning:
    norm = {k: (v,) if isinstance(v, str) else tuple(v) for k, v in texts.items()}
    return Meaning(key, status, category, slug, group, place, norm)


MEANINGS: tuple[Meaning, ...] = (
    # --- forward milestones --------------------------------------------------------------------
    _m("ms.label_created", _S.INFO_RECEIVED, None, "LABEL_CREATED", "INF/DAT",
       sentence=("The sender has registered your parcel; we are waiting to receive it.",
                 "Shipment details received electronically, parcel not handed over yet.",
                 "Your parcel has been announced to us by the shipper."),
       terse=("Shipment data received", "Label printed, awaiting parcel"),
       de=("Sendungsdaten vom Absender übermittelt",
           "Paketdaten eingegangen, Paket noch nicht übergeben"),
       nl=("Zending aangemeld door afzender", "Gegevens ontvangen, pakket nog niet bij ons"),
       fr=("Envoi enregistré par l'expéditeur", "Données reçues, colis pas encore remis"),
       pl=("Nadawca zarejestrował przesyłkę", "Dane przesyłki otrzymane, czekamy na paczkę"),
       driver=("label made, not collected yet",)),
    _m("ms.picked_up", _S.IN_TRANSIT, None, "PICKED_UP", "PUP/OK",
       sentence=("We collected your parcel from the sender.",
                 "The parcel has been handed to us and is on its way."),
       terse=("Picked up from shipper", "Collected at origin"),
       driver=("picked up 1 pc", "collected at sender"),
       de=("Paket beim Absender abgeholt", "Sendung übernommen"),
       nl=("Pakket opgehaald bij afzender", "Zending in ontvangst genomen"),
       fr=("Colis pris en charge chez l'expéditeur", "Enlèvement effectué"),
       pl=("Odebrano od nadawcy", "Przesyłka przyjęta do transportu")),
    _m("ms.hub_arrival", _S.IN_TRANSIT, None, "ARRIVED_AT_HUB", "HUB/ARR", place=True,
       sentence=("Your parcel arrived at our sorting centre",
                 "The shipment reached the processing hub"),
       terse=("Arrived at sort centre", "Hub inbound scan"),
       driver=("in hub", "unloaded at hub"),
       de=("Im Paketzentrum eingetroffen", "Eingang Umschlagbasis"),
       nl=("Aangekomen in sorteercentrum", "Binnengekomen op hub"),
       fr=("Arrivé au centre de tri", "Entrée plateforme"),
       pl=("Przesyłka dotarła do sortowni", "Przyjęcie w terminalu")),
    _m("ms.hub_departure", _S.IN_TRANSIT, None, "DEPARTED_HUB", "HUB/DEP", place=True,
       sentence=("Your parcel has left the sorting centre",
                 "The shipment was loaded onto a linehaul truck"),
       terse=("Departed sort centre", "Hub outbound scan"),
       driver=("left hub",),
       de=("Paketzentrum verlassen", "Ausgang Umschlagbasis"),
       nl=("Vertrokken uit sorteercentrum", "Uitgaande scan hub"),
       fr=("Départ du centre de tri", "Sortie plateforme"),
       pl=("Wyjazd z sortowni", "Przesyłka opuściła terminal")),
    _m("ms.in_transit", _S.IN_TRANSIT, None, "IN_TRANSIT", "TRN/RUN",
       sentence=("Your parcel is on its way to the delivery area.",
                 "The shipment is moving through our network."),
       terse=("Moving through network", "En route to delivery depot"),
       driver=("on the road",),
       de=("Sendung ist unterwegs", "Transport zum Zustelldepot"),
       nl=("Pakket is onderweg", "Onderweg naar het depot"),
       fr=("Colis en cours d'acheminement", "En route vers le site de distribution"),
       pl=("Przesyłka w drodze", "W transporcie do oddziału doręczającego")),
    _m("ms.export", _S.IN_TRANSIT, None, "EXPORT_CLEARED", "EXP/CLR", place=True,
       sentence=("Export formalities completed; the parcel is leaving the origin country",
                 "Your shipment has been released for export"),
       terse=("Export cleared", "Left origin country"),
       driver=("export done",),
       de=("Ausfuhrabfertigung abgeschlossen", "Sendung hat das Abgangsland verlassen"),
       nl=("Uitvoer afgehandeld", "Vertrokken uit land van herkomst"),
       fr=("Formalités d'exportation terminées", "Départ du pays d'origine"),
       pl=("Odprawa eksportowa zakończona", "Przesyłka opuściła kraj nadania")),
    _m("ms.import", _S.IN_TRANSIT, None, "ARRIVED_DESTINATION_COUNTRY", "IMP/ARR", place=True,
       sentence=("The parcel has reached the destination country and awaits clearance",
                 "Your shipment landed in the destination country"),
       terse=("Reached destination country", "Import scan"),
       driver=("arrived import side",),
       de=("Im Zielland angekommen", "Eingang Zielland, Verzollung folgt"),
       nl=("Aangekomen in land van bestemming", "Importscan, inklaring volgt"),
       fr=("Arrivé dans le pays de destination", "Arrivée pays destinataire, dédouanement à venir"),
       pl=("Przesyłka dotarła do kraju przeznaczenia", "Przyjęcie w kraju docelowym")),
    _m("ms.customs_cleared", _S.IN_TRANSIT, None, "CUSTOMS_RELEASED", "CUS/REL",
       sentence=("Customs released your parcel.",
                 "Import clearance is complete and the parcel continues its journey."),
       terse=("Released by customs", "Import clearance complete"),
       driver=("customs ok",),
       de=("Verzollung abgeschlossen", "Vom Zoll freigegeben"),
       nl=("Douane heeft het pakket vrijgegeven", "Inklaring voltooid"),
       fr=("Dédouané", "Libéré par la douane"),
       pl=("Zwolniona przez urząd celny", "Odprawa celna zakończona")),
    _m("ms.depot_arrival", _S.IN_TRANSIT, None, "AT_DELIVERY_DEPOT", "DEP/ARR", place=True,
       sentence=("Your parcel reached the depot that will deliver it",
                 "The shipment arrived at the local delivery station"),
       terse=("At delivery depot", "Arrived at local station"),
       driver=("at depot", "depot in"),
       de=("Im Zustellstützpunkt eingetroffen", "Ankunft Zustelldepot"),
       nl=("Aangekomen in bezorgdepot", "Op het afleverdepot"),
       fr=("Arrivé à l'agence de distribution", "Arrivée site de livraison"),
       pl=("Przesyłka w oddziale doręczającym", "Dotarła do magazynu lokalnego")),
    _m("ms.out_for_delivery", _S.OUT_FOR_DELIVERY, None, "ON_DELIVERY_ROUND", "DLV/OUT",
       sentence=("Your parcel is on the delivery vehicle and should arrive today.",
                 "The courier is bringing your shipment today."),
       terse=("With courier for delivery", "Loaded for today's round"),
       driver=("on van", "tour started"),
       de=("Paket ist in Zustellung", "Zustellfahrzeug beladen"),
       nl=("Bezorger is vandaag onderweg naar je", "Pakket zit in de bezorgbus"),
       fr=("En cours de livraison", "Colis chargé dans le véhicule de livraison"),
       pl=("Przesyłka wydana kurierowi do doręczenia", "Kurier doręcza dziś")),
    _m("ms.pickup_point", _S.AVAILABLE_FOR_PICKUP, None, "AT_PICKUP_POINT", "PUP/AVL",
       sentence=("Your parcel is waiting for you at a pickup point.",
                 "The shipment can be collected at the nearby parcel shop."),
       terse=("Ready for collection at parcel shop", "Waiting at pickup point"),
       driver=("left at shop", "dropped at parcelshop"),
       de=("Paket liegt in der Filiale zur Abholung bereit", "Abholbereit im Paketshop"),
       nl=("Pakket ligt klaar bij het afhaalpunt", "Af te halen bij servicepunt"),
       fr=("Colis disponible en point relais", "A retirer au bureau de poste"),
       pl=("Przesyłka czeka w punkcie odbioru", "Do odbioru w placówce")),
    _m("ms.delivered", _S.DELIVERED, None, "DELIVERED", "DLV/OK",
       sentence=("Your parcel has been delivered.", "We handed the shipment to the recipient."),
       terse=("Handed to recipient", "Delivery completed"),
       driver=("dlvd", "handed over, signed"),
       de=("Zugestellt an Empfänger", "Die Sendung wurde zugestellt"),
       nl=("Bezorgd bij ontvanger", "Pakket is afgeleverd"),
       fr=("Livré au destinataire", "Colis remis"),
       pl=("Doręczono do odbiorcy", "Przesyłka doręczona")),
    _m("ms.delivered_neighbour", _S.DELIVERED, None, "DELIVERED_NEIGHBOUR", "DLV/OK",
       sentence=("Delivered to a neighbour who accepted it for the recipient.",),
       terse=("Left with neighbour",),
       driver=("gave to neighbour nr 12", "neighbour took it"),
       de=("Beim Nachbarn abgegeben",),
       nl=("Afgegeven bij de buren",),
       fr=("Remis à un voisin",),
       pl=("Doręczono sąsiadowi",)),
    _m("ms.delivered_pickup", _S.DELIVERED, None, "COLLECTED_BY_RECIPIENT", "DLV/OK",
       sentence=("The recipient collected the parcel at the pickup point.",),
       terse=("Collected by recipient",),
       driver=("collected from shop",),
       de=("Vom Empfänger in der Filiale abgeholt",),
       nl=("Opgehaald door ontvanger",),
       fr=("Retiré par le destinataire",),
       pl=("Odebrana przez adresata w punkcie",)),
    _m("ms.status_update", _S.UNKNOWN, None, "STATUS_UPDATE", "STA/UPD",
       sentence=("Tracking information has been updated.",),
       terse=("Information updated", "Scan recorded"),
       driver=("scan", "chk"),
       de=("Sendungsinformation aktualisiert",),
       nl=("Statusinformatie bijgewerkt",),
       fr=("Information mise à jour",),
       pl=("Zaktualizowano dane",)),
    # --- return to sender and cancellation ----------------------------------------------------
    _m("rts.started", _S.RETURN_TO_SENDER, _C.RETURN_TO_SENDER, "RETURN_INITIATED", "RTN/INI",
       sentence=("We are sending the parcel back to the shipper.",
                 "A return to the sender has been started."),
       terse=("Return to shipper initiated", "Being sent back"),
       driver=("back to sender", "rtn to shipper"),
       de=("Rücksendung an den Absender eingeleitet", "Sendung geht zurück an Absender"),
       nl=("Retour naar afzender gestart", "Pakket gaat terug naar de afzender"),
       fr=("Retour à l'expéditeur en cours", "Colis renvoyé à l'expéditeur"),
       pl=("Zwrot do nadawcy rozpoczęty", "Przesyłka wraca do nadawcy")),
    _m("rts.in_transit", _S.RETURN_TO_SENDER, _C.RETURN_TO_SENDER, "RETURN_IN_TRANSIT",
       "RTN/TRN",
       sentence=("The returned parcel is travelling back to the sender.",),
       terse=("Return on its way",),
       driver=("return on way",),
       de=("Rücksendung unterwegs",),
       nl=("Retourzending onderweg",),
       fr=("Retour en cours d'acheminement",),
       pl=("Zwrot w drodze",)),
    _m("rts.completed", _S.RETURN_TO_SENDER, _C.RETURN_TO_SENDER, "RETURN_DELIVERED", "RTN/OK",
       sentence=("The parcel was delivered back to the shipper.",),
       terse=("Back with shipper",),
       driver=("returned, signed by sender",),
       de=("An Absender zurückgeliefert",),
       nl=("Terugbezorgd bij afzender",),
       fr=("Retourné à l'expéditeur",),
       pl=("Zwrócono nadawcy",)),
    _m("cx.cancelled", _S.CANCELLED, _C.CANCELLED, "SHIPMENT_CANCELLED", "CAN/CXL",
       sentence=("The sender cancelled this shipment before handing it over.",
                 "This label was voided and will not be used."),
       terse=("Cancelled by sender", "Label voided"),
       driver=("pickup cancelled, nothing to collect", "no parcel - cancelled"),
       de=("Sendung vom Absender storniert", "Label storniert"),
       nl=("Zending geannuleerd door afzender", "Label ongeldig gemaakt"),
       fr=("Envoi annulé par l'expéditeur", "Etiquette annulée"),
       pl=("Nadawca anulował przesyłkę", "Etykieta anulowana")),
    # --- exceptions ------------------------------------------------------------------------------
    _m("exc.address_issue.incomplete", _S.EXCEPTION, _C.ADDRESS_ISSUE, "ADDRESS_INCOMPLETE",
       "EXC/ADR",
       sentence=("Part of the delivery address is missing, so we could not deliver.",
                 "We need a complete address with street number before we can deliver."),
       terse=("Address incomplete", "House number missing"),
       driver=("no house nr on label", "adress incomplete"),
       de=("Adresse unvollständig", "Hausnummer fehlt"),
       nl=("Adres onvolledig", "Huisnummer ontbreekt"),
       fr=("Adresse incomplète", "Numéro de rue manquant"),
       pl=("Niepełny adres", "Brak numeru domu")),
    _m("exc.address_issue.unknown", _S.EXCEPTION, _C.ADDRESS_ISSUE, "ADDRESS_NOT_FOUND",
       "EXC/ADR",
       sentence=("The recipient is not known at the given address.",
                 "Our courier could not find the address on the label."),
       terse=("Recipient unknown at address", "Address not found"),
       driver=("name not on any bell", "street doesnt exist??"),
       de=("Empfänger unter der Anschrift unbekannt", "Anschrift nicht auffindbar"),
       nl=("Ontvanger onbekend op adres", "Adres niet gevonden"),
       fr=("Destinataire inconnu à l'adresse", "Adresse introuvable"),
       pl=("Adresat nieznany pod wskazanym adresem", "Nie znaleziono adresu")),
    _m("exc.address_issue.moved", _S.EXCEPTION, _C.ADDRESS_ISSUE, "RECIPIENT_MOVED", "EXC/ADR",
       sentence=("The recipient has moved and left no forwarding address.",
                 "The consignee no longer lives at this address."),
       terse=("Recipient moved", "Consignee relocated"),
       driver=("moved out, neighbour says", "new tenant, pers. moved"),
       de=("Empfänger verzogen", "Empfänger unbekannt verzogen"),
       nl=("Ontvanger verhuisd", "Geadresseerde woont hier niet meer"),
       fr=("Destinataire a déménagé", "N'habite plus à l'adresse indiquée"),
       pl=("Adresat wyprowadził się", "Adresat zmienił adres")),
    _m("exc.recipient_unavailable.not_home", _S.EXCEPTION, _C.RECIPIENT_UNAVAILABLE,
       "NOBODY_HOME", "EXC/RCP",
       sentence=("Nobody was home when we tried to deliver.",
                 "We could not deliver because no one answered the door."),
       terse=("Recipient absent", "No one at home"),
       driver=("nobody home", "rang 3x no answer"),
       de=("Empfänger nicht angetroffen", "Niemand zu Hause"),
       nl=("Niemand thuis", "Ontvanger niet aanwezig"),
       fr=("Destinataire absent", "Personne au domicile"),
       pl=("Adresat nieobecny", "Nikogo nie zastano")),
    _m("exc.recipient_unavailable.business_closed", _S.EXCEPTION, _C.RECIPIENT_UNAVAILABLE,
       "BUSINESS_CLOSED", "EXC/RCP",
       sentence=("The business was closed at the time of delivery.",
                 "We arrived outside the company's opening hours."),
       terse=("Company closed", "Closed at time of attempt"),
       driver=("shop closed", "office shut, sat"),
       de=("Firma geschlossen", "Geschäft bei Zustellung geschlossen"),
       nl=("Bedrijf gesloten", "Buiten openingstijden"),
       fr=("Entreprise fermée", "Commerce fermé lors du passage"),
       pl=("Firma zamknięta", "Zamknięte w czasie doręczenia")),
    _m("exc.recipient_unavailable.notice_left", _S.EXCEPTION, _C.RECIPIENT_UNAVAILABLE,
       "NOTICE_LEFT", "EXC/RCP",
       sentence=("We left a card because the recipient could not be reached.",
                 "A delivery notice was left; we will try again or it can be collected."),
       terse=("Delivery card left", "Attempted - card left"),
       driver=("card in mailbox", "left note, will retry"),
       de=("Benachrichtigungskarte hinterlassen", "Zustellversuch erfolglos, Karte eingeworfen"),
       nl=("Kaartje achtergelaten", "Bezorgpoging mislukt, bericht achtergelaten"),
       fr=("Avis de passage déposé", "Tentative de livraison, avis laissé"),
       pl=("Pozostawiono awizo", "Nieudana próba doręczenia, awizo")),
    _m("exc.refused.refused", _S.EXCEPTION, _C.REFUSED, "ACCEPTANCE_REFUSED", "EXC/REF",
       sentence=("The recipient declined to accept the parcel.",
                 "Delivery was turned down by the consignee."),
       terse=("Declined by recipient", "Acceptance declined"),
       driver=("cust refused", "didnt want it, refused"),
       de=("Annahme verweigert", "Empfänger hat die Annahme abgelehnt"),
       nl=("Aanname geweigerd", "Ontvanger weigert het pakket"),
       fr=("Refusé par le destinataire", "Le destinataire refuse le colis"),
       pl=("Odmowa przyjęcia", "Adresat odmówił przyjęcia przesyłki")),
    _m("exc.refused.duties", _S.EXCEPTION, _C.REFUSED, "REFUSED_CHARGES", "EXC/REF",
       sentence=("The recipient would not pay the import charges and refused the parcel.",
                 "Turned down at the door: the consignee did not accept the duties due."),
       terse=("Declined - duties unpaid", "Declined, charges not accepted"),
       driver=("refused, wont pay tax", "no pay duty, refused"),
       de=("Annahme verweigert - Einfuhrabgaben nicht bezahlt",
           "Verweigert wegen Zollgebühren"),
       nl=("Geweigerd, invoerkosten niet betaald", "Geweigerd vanwege douanekosten"),
       fr=("Refusé - droits et taxes non réglés", "Refus de payer les frais d'importation"),
       pl=("Odmowa - nieopłacone cło", "Adresat odmówił zapłaty należności celnych")),
    _m("exc.refused.not_ordered", _S.EXCEPTION, _C.REFUSED, "REFUSED_NOT_ORDERED", "EXC/REF",
       sentence=("The recipient says they did not order this and refused it.",
                 "Declined: the consignee does not recognise the order."),
       terse=("Declined - not ordered", "Refused, order unknown to recipient"),
       driver=("says didnt order, refused",),
       de=("Annahme verweigert - nicht bestellt",),
       nl=("Geweigerd - niet besteld",),
       fr=("Refusé - commande non reconnue",),
       pl=("Odmowa - nie zamawiano",)),
    _m("exc.customs_hold.documents", _S.EXCEPTION, _C.CUSTOMS_HOLD, "CUSTOMS_DOCS_REQUIRED",
       "EXC/CUS",
       sentence=("Customs needs further documents before releasing the parcel.",
                 "The shipment is held until the commercial invoice is provided."),
       terse=("Customs - documents required", "Awaiting invoice for clearance"),
       driver=("customs hold, paperwork",),
       de=("Zoll: Unterlagen fehlen", "Sendung beim Zoll, Rechnung angefordert"),
       nl=("Douane: documenten ontbreken", "Wacht op factuur voor inklaring"),
       fr=("Retenu en douane - documents manquants", "En attente de facture pour dédouanement"),
       pl=("Zatrzymana przez urząd celny - brak dokumentów", "Oczekuje na fakturę do odprawy")),
    _m("exc.customs_hold.duties_due", _S.EXCEPTION, _C.CUSTOMS_HOLD, "DUTIES_OUTSTANDING",
       "EXC/CUS",
       sentence=("Import duties and taxes must be paid before we can deliver.",
                 "The parcel is waiting for payment of customs charges."),
       terse=("Duties and taxes outstanding", "Awaiting payment of import charges"),
       driver=("waiting duty payment",),
       de=("Einfuhrabgaben offen", "Wartet auf Zahlung der Zollgebühren"),
       nl=("Invoerrechten nog te betalen", "Wacht op betaling douanekosten"),
       fr=("Droits et taxes à régler", "En attente du paiement des frais de douane"),
       pl=("Należności celne do zapłaty", "Oczekuje na opłatę celną")),
    _m("exc.customs_hold.inspection", _S.EXCEPTION, _C.CUSTOMS_HOLD, "CUSTOMS_INSPECTION",
       "EXC/CUS",
       sentence=("Customs selected the parcel for inspection.",
                 "The shipment is being examined by the customs authority."),
       terse=("Customs inspection", "Held for customs examination"),
       driver=("customs check",),
       de=("Zollkontrolle", "Sendung wird vom Zoll geprüft"),
       nl=("Douanecontrole", "Pakket wordt door de douane onderzocht"),
       fr=("Contrôle douanier", "Colis examiné par la douane"),
       pl=("Kontrola celna", "Przesyłka sprawdzana przez służby celne")),
    _m("exc.damaged.packaging", _S.EXCEPTION, _C.DAMAGED, "PACKAGING_DAMAGED", "EXC/DMG",
       sentence=("The outer packaging was damaged; we repacked the parcel.",
                 "Packaging damage was found during sorting."),
       terse=("Packaging damaged", "Damaged box, repacked"),
       driver=("box crushed", "carton torn, taped it"),
       de=("Verpackung beschädigt", "Beschädigte Verpackung, nachverpackt"),
       nl=("Verpakking beschadigd", "Doos beschadigd, opnieuw verpakt"),
       fr=("Emballage endommagé", "Carton abîmé, reconditionné"),
       pl=("Uszkodzone opakowanie", "Opakowanie naprawione po uszkodzeniu")),
    _m("exc.damaged.contents", _S.EXCEPTION, _C.DAMAGED, "CONTENTS_DAMAGED", "EXC/DMG",
       sentence=("The contents of the parcel were damaged in transit.",
                 "We found the item broken during handling."),
       terse=("Contents damaged", "Item broken in transit"),
       driver=("smth broken inside, rattles", "wet parcel, damaged"),
       de=("Inhalt beschädigt", "Ware beim Transport beschädigt"),
       nl=("Inhoud beschadigd", "Artikel gebroken tijdens transport"),
       fr=("Contenu endommagé", "Article cassé pendant le transport"),
       pl=("Uszkodzona zawartość", "Towar uszkodzony w transporcie")),
    _m("exc.lost.not_located", _S.EXCEPTION, _C.LOST, "CANNOT_LOCATE", "EXC/LST",
       sentence=("We cannot currently locate your parcel.",
                 "The parcel has not been scanned for some time and is being searched for."),
       terse=("Parcel cannot be located", "Missing - search started"),
       driver=("pkg missing on van", "cant find it"),
       de=("Sendung nicht auffindbar", "Paket wird gesucht"),
       nl=("Pakket niet te vinden", "Zoekopdracht gestart"),
       fr=("Colis introuvable", "Recherche du colis en cours"),
       pl=("Nie można zlokalizować przesyłki", "Trwa poszukiwanie paczki")),
    _m("exc.lost.declared", _S.EXCEPTION, _C.LOST, "DECLARED_LOST", "EXC/LST",
       sentence=("After an investigation the parcel has been declared lost.",
                 "Our search was unsuccessful; the shipment is considered lost."),
       terse=("Declared lost", "Trace closed - not found"),
       driver=("lost, claim",),
       de=("Als verloren gemeldet", "Nachforschung ohne Ergebnis"),
       nl=("Als verloren beschouwd", "Onderzoek afgesloten, niet gevonden"),
       fr=("Déclaré perdu", "Enquête close, colis non retrouvé"),
       pl=("Uznana za zagubioną", "Reklamacja: przesyłka zaginęła")),
    _m("exc.weather_delay.severe_weather", _S.EXCEPTION, _C.WEATHER_DELAY, "WEATHER_DELAY",
       "EXC/WX",
       sentence=("Severe weather is delaying deliveries in this area.",
                 "Extreme weather conditions are affecting our network."),
       terse=("Delayed by adverse weather", "Storm delay"),
       driver=("roads closed, storm", "cant drive snow"),
       de=("Verzögerung wegen Unwetter", "Witterungsbedingte Verzögerung"),
       nl=("Vertraging door noodweer", "Vertraagd door weersomstandigheden"),
       fr=("Retard dû aux intempéries", "Conditions météo défavorables"),
       pl=("Opóźnienie z powodu złej pogody", "Utrudnienia pogodowe")),
    _m("exc.weather_delay.natural_event", _S.EXCEPTION, _C.WEATHER_DELAY, "AREA_INACCESSIBLE",
       "EXC/WX",
       sentence=("A natural disaster has interrupted service in the region.",
                 "Flooding has made the delivery area unreachable."),
       terse=("Service suspended - natural event", "Area inaccessible (flooding)"),
       driver=("flooded road no access",),
       de=("Zustellung wegen Hochwasser nicht möglich", "Naturereignis, Zustellung unterbrochen"),
       nl=("Gebied onbereikbaar door overstroming", "Natuurramp, bezorging onderbroken"),
       fr=("Zone inaccessible (inondations)", "Catastrophe naturelle, service interrompu"),
       pl=("Teren niedostępny (powódź)", "Klęska żywiołowa, doręczenia wstrzymane")),
    _m("exc.carrier_delay.missed_connection", _S.EXCEPTION, _C.CARRIER_DELAY,
       "MISSED_CONNECTION", "EXC/DLY",
       sentence=("The parcel missed its planned connection and will leave on the next one.",
                 "Your shipment was not loaded on the scheduled linehaul."),
       terse=("Connection missed", "Not loaded as planned"),
       driver=("missed truck",),
       de=("Anschluss verpasst", "Nicht wie geplant verladen"),
       nl=("Aansluiting gemist", "Niet volgens planning geladen"),
       fr=("Correspondance manquée", "Non chargé comme prévu"),
       pl=("Przesyłka nie zdążyła na transport", "Nie załadowano zgodnie z planem")),
    _m("exc.carrier_delay.capacity", _S.EXCEPTION, _C.CARRIER_DELAY, "VOLUME_DELAY", "EXC/DLY",
       sentence=("High volumes in our network are causing a delay.",
                 "Due to heavy parcel volumes your delivery will be a day later."),
       terse=("Delay - high volume", "Network capacity delay"),
       driver=("van full, tomorrow", "too many parcels today"),
       de=("Verzögerung wegen hohem Sendungsaufkommen", "Kapazitätsengpass"),
       nl=("Vertraging door drukte", "Capaciteitstekort in het netwerk"),
       fr=("Retard lié au volume important", "Saturation du réseau"),
       pl=("Opóźnienie z powodu dużej liczby przesyłek", "Brak mocy przerobowych")),
    _m("exc.carrier_delay.missort", _S.EXCEPTION, _C.CARRIER_DELAY, "MISSORTED", "EXC/DLY",
       sentence=("The parcel was sent to the wrong depot and is being rerouted.",
                 "A sorting error delayed your shipment."),
       terse=("Missorted - rerouted", "Sorting error"),
       driver=("wrong depot, send back",),
       de=("Fehlleitung, wird umgeleitet", "Sortierfehler"),
       nl=("Verkeerd gesorteerd, wordt omgeleid", "Sorteerfout"),
       fr=("Erreur d'acheminement, réorienté", "Erreur de tri"),
       pl=("Błędnie skierowana, przekierowanie", "Błąd sortowania")),
    _m("exc.carrier_delay.vehicle", _S.EXCEPTION, _C.CARRIER_DELAY, "VEHICLE_BREAKDOWN",
       "EXC/DLY",
       sentence=("A vehicle breakdown delayed today's deliveries.",),
       terse=("Vehicle breakdown",),
       driver=("van broke down",),
       de=("Fahrzeugpanne",),
       nl=("Voertuigpech",),
       fr=("Panne de véhicule",),
       pl=("Awaria pojazdu",)),
    _m("exc.held_by_carrier_security.dangerous_goods", _S.EXCEPTION,
       _C.HELD_BY_CARRIER_SECURITY, "DANGEROUS_GOODS_HOLD", "EXC/SEC",
       sentence=("The parcel contains dangerous goods that need a declaration.",
                 "Shipment held: lithium batteries not declared."),
       terse=("Held - dangerous goods", "DG declaration missing"),
       driver=("battery inside, held",),
       de=("Gefahrgut - Sendung angehalten", "Gefahrgutdeklaration fehlt"),
       nl=("Gevaarlijke stoffen - zending vastgehouden",
           "Verklaring gevaarlijke goederen ontbreekt"),
       fr=("Marchandises dangereuses - envoi bloqué",
           "Déclaration matières dangereuses manquante"),
       pl=("Towary niebezpieczne - przesyłka wstrzymana",
           "Brak deklaracji towarów niebezpiecznych")),
    _m("exc.held_by_carrier_security.prohibited", _S.EXCEPTION, _C.HELD_BY_CARRIER_SECURITY,
       "PROHIBITED_CONTENTS", "EXC/SEC",
       sentence=("The contents are not allowed in our network.",
                 "Shipment stopped: item prohibited for transport."),
       terse=("Prohibited item", "Contents not permitted"),
       driver=("not allowed item",),
       de=("Unzulässiger Inhalt", "Vom Transport ausgeschlossen"),
       nl=("Verboden inhoud", "Niet toegestaan voor vervoer"),
       fr=("Contenu interdit", "Article exclu du transport"),
       pl=("Zawartość niedozwolona", "Przedmiot wyłączony z przewozu")),
    _m("exc.held_by_carrier_security.screening", _S.EXCEPTION, _C.HELD_BY_CARRIER_SECURITY,
       "SECURITY_SCREENING", "EXC/SEC",
       sentence=("The parcel is held for a security screening.",
                 "A security check has stopped the shipment temporarily."),
       terse=("Security screening hold", "Held for security check"),
       driver=("security check",),
       de=("Sicherheitskontrolle", "Angehalten zur Sicherheitsprüfung"),
       nl=("Veiligheidscontrole", "Vastgehouden voor veiligheidscheck"),
       fr=("Contrôle de sûreté", "Retenu pour contrôle de sécurité"),
       pl=("Kontrola bezpieczeństwa", "Zatrzymana do kontroli")),
    _m("exc.other_exception.cod", _S.EXCEPTION, _C.OTHER_EXCEPTION, "COD_NOT_COLLECTED",
       "EXC/OTH",
       sentence=("Cash on delivery could not be collected.",
                 "Payment at the door failed; we will try again."),
       terse=("COD not collected", "Payment on delivery failed"),
       driver=("no cash for cod",),
       de=("Nachnahme nicht kassiert", "Zahlung bei Zustellung fehlgeschlagen"),
       nl=("Rembours niet betaald", "Betaling aan de deur mislukt"),
       fr=("Contre-remboursement non perçu", "Paiement à la livraison échoué"),
       pl=("Nie pobrano pobrania", "Płatność przy odbiorze nieudana")),
    _m("exc.other_exception.label", _S.EXCEPTION, _C.OTHER_EXCEPTION, "LABEL_UNREADABLE",
       "EXC/OTH",
       sentence=("The label could not be read and a new one was printed.",
                 "The barcode was unreadable; manual handling required."),
       terse=("Label unreadable", "Barcode damaged - relabelled"),
       driver=("label torn, new label",),
       de=("Etikett unlesbar", "Barcode beschädigt, neu etikettiert"),
       nl=("Label onleesbaar", "Barcode beschadigd, nieuw label"),
       fr=("Etiquette illisible", "Code-barres abîmé, réétiqueté"),
       pl=("Nieczytelna etykieta", "Uszkodzony kod kreskowy")),
    _m("exc.other_exception.data", _S.EXCEPTION, _C.OTHER_EXCEPTION, "DATA_DISCREPANCY",
       "EXC/OTH",
       sentence=("There is a problem with the shipment data; we are checking it.",
                 "Shipment details did not match and are being reviewed."),
       terse=("Data discrepancy", "Shipment data under review"),
       driver=("weird data, check",),
       de=("Sendungsdaten fehlerhaft", "Datenabgleich läuft"),
       nl=("Gegevens kloppen niet", "Zendingsgegevens in controle"),
       fr=("Anomalie de données", "Données d'envoi en vérification"),
       pl=("Niezgodność danych", "Weryfikacja danych przesyłki")),
)

MEANING_KEYS: tuple[str, ...] = tuple(m.key for m in MEANINGS)
MEANING_INDEX: dict[str, int] = {k: i for i, k in enumerate(MEANING_KEYS)}

# Sub-reasons per category (meaning indices), for picking one when an exception happens.
CATEGORY_MEANINGS: dict[ExceptionCategory, tuple[int, ...]] = {
    cat: tuple(i for i, m in enumerate(MEANINGS) if m.key.startswith(f"exc.{cat.value}."))
    for cat in ExceptionCategory
    if cat not in (ExceptionCategory.RETURN_TO_SENDER, ExceptionCategory.CANCELLED)
}

# Legacy-system abbreviations for the 'caps' style (applied after upper-casing).
_ABBREVIATIONS: tuple[tuple[str, str], ...] = (
    ("DANGEROUS GOODS", "DG"), ("ADDRESS", "ADDR"), ("RECIPIENT", "RCPT"),
    ("CONSIGNEE", "CNEE"), ("DELIVERY", "DLVY"), ("DELIVERED", "DLVD"),
    ("SHIPMENT", "SHPT"), ("PARCEL", "PCL"), ("PACKAGE", "PKG"), ("ATTEMPT", "ATT"),
    ("RECEIVED", "RCVD"), ("DEPARTED", "DEPT"), ("ARRIVED", "ARR"), ("CUSTOMS", "CSTMS"),
    ("DOCUMENTS", "DOCS"), ("DAMAGED", "DMGD"), ("SECURITY", "SEC"), ("PAYMENT", "PYMT"),
    ("SHIPPER", "SHPR"), ("COLLECTION", "COLL"), ("INFORMATION", "INFO"), ("NUMBER", "NO"),
    ("WEATHER", "WX"), ("CONNECTION", "CONN"), ("CENTRE", "CTR"), ("COUNTRY", "CTRY"),
    ("CLEARANCE", "CLR"), ("VEHICLE", "VEH"), ("DECLARATION", "DECL"), ("COMPLETED", "COMPL"),
)

_STATUS_LETTER: dict[TrackingStatus, str] = {
    _S.INFO_RECEIVED: "I", _S.IN_TRANSIT: "T", _S.OUT_FOR_DELIVERY: "D",
    _S.AVAILABLE_FOR_PICKUP: "P", _S.DELIVERED: "L", _S.EXCEPTION: "X",
    _S.RETURN_TO_SENDER: "R", _S.CANCELLED: "C", _S.UNKNOWN: "U",
}
_STATUS_CODE: dict[TrackingStatus, str] = {
    _S.INFO_RECEIVED: "S05", _S.IN_TRANSIT: "S20", _S.OUT_FOR_DELIVERY: "S30",
    _S.AVAILABLE_FOR_PICKUP: "S35", _S.DELIVERED: "S40", _S.EXCEPTION: "S90",
    _S.RETURN_TO_SENDER: "S80", _S.CANCELLED: "S99", _S.UNKNOWN: "S00",
}
# Carriers whose coarse codes are shared across categories on purpose (code alone misleads).
_SHARED_GROUPS: dict[str, dict[str, str]] = {
    "swiftair": {"EXC/SEC": "EXC/CUS", "RTN/TRN": "RTN/INI"},
    "atlas": {"EXC/OTH": "EXC/DLY"},
}
# Carrier-specific lead-in of the customer-facing sentence.
_SENTENCE_FRAME: dict[str, str] = {
    "swiftair": "Shipment update: {}",
    "lowlands": "Lowlands: {}",
    "atlas": "Info: {}",
}


def ascii_caps(text: str) -> str:
    """The legacy style: upper case, no accents, carrier abbreviations."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    out = plain.upper().rstrip(".")
    for long, short in _ABBREVIATIONS:
        out = out.replace(long, short)
    return out


def typo_variant(text: str) -> str:
    """A deterministic misspelling: swap, drop or double one letter, as thumbs on a handheld do."""
    positions = [i for i, ch in enumerate(text) if ch.isalpha()]
    if len(positions) < 4:
        return text
    h = zlib.crc32(text.encode())
    i = positions[1 + h % (len(positions) - 2)]
    kind = (h >> 8) % 3
    if kind == 0 and i + 1 < len(text):
        return text[:i] + text[i + 1] + text[i] + text[i + 2:]
    if kind == 1:
        return text[:i] + text[i + 1:]
    return text[:i] + text[i] + text[i:]


def _texts_for(meaning: Meaning, style: str) -> tuple[str, ...]:
    if style == "caps":
        return tuple(dict.fromkeys(ascii_caps(t) for t in meaning.texts.get("terse", ())))
    base = meaning.texts.get(style, ())
    if style == "driver":
        return tuple(dict.fromkeys([*base, *(typo_variant(t) for t in base)]))
    return base


def _code(carrier: Carrier, meaning: Meaning, ordinal: int, style: str) -> str | None:
    if style == "driver":
        return None  # typed by a driver: no code at all
    scheme, gran = carrier.code_scheme, carrier.code_granularity
    group = _SHARED_GROUPS.get(carrier.code, {}).get(meaning.group, meaning.group)
    unit = {"key": meaning.key, "category": group, "status": meaning.status.value}[gran]
    h = zlib.crc32(f"{carrier.code}:{unit}".encode())
    if scheme == "numeric3":
        return str(100 + (h % 900))
    if scheme == "alpha2":
        return chr(65 + h % 26) + chr(65 + (h // 26) % 26)
    if scheme == "postal":
        return f"{_STATUS_LETTER[meaning.status]}{h % 90 + 10}"
    if scheme == "snake":
        return meaning.slug
    if scheme == "status2":
        return _STATUS_CODE[meaning.status]
    if scheme == "slash":
        return group
    raise ValueError(f"unknown code scheme {scheme!r}")


@dataclass(frozen=True)
class Phrase:
    carrier: str
    meaning: str
    style: str
    code: str | None
    text: str


@dataclass(frozen=True)
class Phrasebook:
    """All phrases of all carriers, flattened for vectorized lookup.

    ``offset[c, m]`` and ``count[c, m]`` locate the phrases carrier ``c`` can use for meaning
    ``m`` in the flat arrays; a uniform draw picks one of them per event.
    """

    carriers: tuple[Carrier, ...] = CARRIERS

    @cached_property
    def phrases(self) -> tuple[Phrase, ...]:
        out: list[Phrase] = []
        for ci, carrier in enumerate(self.carriers):
            frame = _SENTENCE_FRAME.get(carrier.code, "{}")
            for ordinal, meaning in enumerate(MEANINGS):
                for style in carrier.styles:
                    texts = _texts_for(meaning, style)
                    if not texts:
                        continue
                    # Each carrier keeps its own subset of the shared phrasings (rotated by
                    # carrier), so two carriers rarely say the exact same thing.
                    keep = max(1, min(len(texts), 2 if style != "driver" else 3))
                    start = (ci + ordinal) % len(texts)
                    chosen = [texts[(start + j) % len(texts)] for j in range(keep)]
                    for text in chosen:
                        if style == "sentence":
                            text = frame.format(text)
                        out.append(Phrase(carrier.code, meaning.key, style,
                                          _code(carrier, meaning, ordinal, style), text))
        return tuple(out)

    @cached_property
    def _arrays(self) -> tuple[np.ndarray, ...]:
        n_c, n_m = len(self.carriers), len(MEANINGS)
        offset = np.zeros((n_c, n_m), dtype=np.int64)
        count = np.zeros((n_c, n_m), dtype=np.int64)
        c_index = {c.code: i for i, c in enumerate(self.carriers)}
        for i, p in enumerate(self.phrases):
            c, m = c_index[p.carrier], MEANING_INDEX[p.meaning]
            if count[c, m] == 0:
                offset[c, m] = i
            count[c, m] += 1
        codes = np.array([p.code for p in self.phrases], dtype=object)
        texts = np.array([p.text for p in self.phrases], dtype=object)
        styles = np.array([STYLES.index(p.style) for p in self.phrases], dtype=np.int8)
        return offset, count, codes, texts, styles

    def pick(self, carrier_idx: np.ndarray, meaning_idx: np.ndarray, u: np.ndarray
             ) -> np.ndarray:
        """Flat phrase index per event, uniform over the carrier's phrases for that meaning."""
        offset, count = self._arrays[0], self._arrays[1]
        n = count[carrier_idx, meaning_idx]
        if (n == 0).any():
            bad = np.flatnonzero(n == 0)[0]
            raise ValueError(
                f"carrier {self.carriers[carrier_idx[bad]].code} has no phrase for "
                f"{MEANING_KEYS[meaning_idx[bad]]}"
            )
        return offset[carrier_idx, meaning_idx] + np.minimum((u * n).astype(np.int64), n - 1)

    @property
    def codes(self) -> np.ndarray:
        return self._arrays[2]

    @property
    def texts(self) -> np.ndarray:
        return self._arrays[3]

    @property
    def styles(self) -> np.ndarray:
        return self._arrays[4]

    def styles_by_category(self) -> dict[tuple[str, ExceptionCategory], set[str]]:
        """Which styles each carrier uses per exception category (a documented guarantee)."""
        out: dict[tuple[str, ExceptionCategory], set[str]] = {}
        by_key = {m.key: m for m in MEANINGS}
        for p in self.phrases:
            cat = by_key[p.meaning].category
            if cat is not None:
                out.setdefault((p.carrier, cat), set()).add(p.style)
        return out


MEANING_STATUS: tuple[TrackingStatus, ...] = tuple(m.status for m in MEANINGS)
MEANING_CATEGORY: tuple[ExceptionCategory | None, ...] = tuple(m.category for m in MEANINGS)
MEANING_PLACE: np.ndarray = np.array([m.place for m in MEANINGS])
