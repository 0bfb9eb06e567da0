"""Keyword rules: the domain-knowledge baseline of triage, and prior features for the model.

Tables, not if-chains (DESIGN §9): each row is ``(label, weight, pattern)``; a pattern is a
regular expression over the *normalized* event text (``app.triage.text``: ASCII, lower case,
abbreviations expanded). Rows come from general parcel-logistics vocabulary and the canonical
taxonomy (DESIGN §4, the AfterShip / EasyPost / Shippo / ANSI X12 214 reason vocabularies),
written in the languages our carriers speak (English, German, Dutch, French, Polish). They are
not derived from any evaluation data set.

Scoring adds the weights of every row that matches; specific phrases carry more weight than
single words, so "delivery attempted, nobody home" beats the bare word "delivery", and
"clearance delay" lands on customs rather than carrier delay. ``NEGATION_RULES`` mark the
milestone that did *not* happen ("could not be delivered"): they take weight away from that
milestone and add to a generic exception signal.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from app.triage.classifier_labels import LABELS, Label

L = Label

# (label, weight, pattern). Weight 1 = a weak cue, 2 = a clear word, 3 = an unambiguous phrase.
KEYWORD_RULES: tuple[tuple[Label, float, str], ...] = (
    # --- info received -------------------------------------------------------------------------
    (L.INFO_RECEIVED, 3, r"label (has been |was )?(created|printed|generated)"),
    (L.INFO_RECEIVED, 3, r"shipping label"),
    (L.INFO_RECEIVED, 3, r"(shipment|electronic|order|advance|pre ?shipment) (data|information|"
                         r"details|notification)( has been| was)? (received|transmitted|sent)"),
    (L.INFO_RECEIVED, 2, r"(information|data|details) received"),
    (L.INFO_RECEIVED, 2, r"\bpre ?(advice|alert|shipment|transit)\b"),
    (L.INFO_RECEIVED, 2, r"\bmanifest(ed)?\b"),
    (L.INFO_RECEIVED, 2, r"order processed|ready for (carrier|pickup by carrier)"),
    (L.INFO_RECEIVED, 2, r"(awaiting|waiting for|not yet) (the )?(parcel|package|item|shipment|"
                         r"handover|hand over|drop ?off)"),
    (L.INFO_RECEIVED, 2, r"(registered|announced|created) by (the )?(sender|shipper)"),
    (L.INFO_RECEIVED, 2, r"\b(sendungsdaten|auftragsdaten|elektronisch angekundigt)"),
    (L.INFO_RECEIVED, 2, r"\b(aangemeld|voorgemeld|label aangemaakt)"),
    (L.INFO_RECEIVED, 2, r"(enregistre par|etiquette (creee|editee)|donnees recues)"),
    (L.INFO_RECEIVED, 2, r"(nadawca zarejestrowal|dane przesylki|utworzono etykiete)"),
    # --- in transit -----------------------------------------------------------------------------
    (L.IN_TRANSIT, 2, r"\bin transit\b"),
    (L.IN_TRANSIT, 2, r"\b(arrived|arrival|received) (at|in) (the |a )?(\w+ )?(facility|hub|"
                      r"terminal|depot|station|gateway|center|warehouse|branch|sort)"),
    (L.IN_TRANSIT, 2, r"\b(departed|departure|left|leaving)\b"),
    (L.IN_TRANSIT, 2, r"\b(processed|processing|sorted|sorting|scanned)\b"),
    (L.IN_TRANSIT, 1, r"\b(facility|hub|terminal|depot|gateway|sort(ing)? center|linehaul|"
                      r"trailer|flight|airport)\b"),
    (L.IN_TRANSIT, 2, r"\b(picked up|pickup scan|collected from|origin scan|destination scan|"
                      r"import scan|export scan|loaded|unloaded|transferred|forwarded|"
                      r"on (its|the) way|en route|moving through|handed over to)\b"),
    (L.IN_TRANSIT, 3, r"(cleared|released)( by| from)? customs|customs (clearance )?"
                      r"(complete|completed|released|cleared)|clearance (complete|completed)|"
                      r"released (for|by|from)"),
    (L.IN_TRANSIT, 2, r"\b(unterwegs|paketzentrum|umschlag\w*|abgeholt|eingetroffen|verlassen|"
                      r"bearbeitet|sortiert|verladen|transport)\b"),
    (L.IN_TRANSIT, 2, r"\b(onderweg|sorteercentrum|gesorteerd|opgehaald|aangekomen|vertrokken|"
                      r"verwerkt)\b"),
    (L.IN_TRANSIT, 2, r"(en cours d acheminement|centre de tri|pris en charge|en transit|"
                      r"\barrive\b|\bdepart\b|achemine)"),
    (L.IN_TRANSIT, 2, r"(w drodze|sortowni|terminal|odebrano od nadawcy|przyjeta|w transporcie|"
                      r"wyjazd|dotarla)"),
    (L.IN_TRANSIT, 3, r"(vom zoll freigegeben|verzollung abgeschlossen|inklaring voltooid|"
                      r"dedouane|odprawa celna zakonczona)"),
    # Routine milestones that borrow exception or delivery words: a hand-off to a postal
    # partner "for final delivery", clearance that is merely under way, a scan on the way
    # to a pickup point.
    (L.IN_TRANSIT, 4, r"(delivered|handed( over)?|tendered|transferred|forwarded) to (the |a )?"
                      r"(local |destination )?(post office|postal (service|partner|operator)|"
                      r"partner|agent|carrier|facility|hub|depot|terminal|station|warehouse)"),
    (L.IN_TRANSIT, 4, r"(clearance|customs) (processing|in progress|status updated|event|"
                      r"started|underway)|(submitted|presented|lodged) to customs|"
                      r"(export|import) (declaration|entry) (submitted|filed|lodged|accepted)"),
    (L.IN_TRANSIT, 4, r"on (its|the) way to (the )?(pick ?up|service|collection|parcel) "
                      r"(point|location|shop)|(picked up|collected) (by|from) (the )?(driver|"
                      r"courier|carrier|shipper|sender)|pick ?up scan"),
    # --- out for delivery -----------------------------------------------------------------------
    (L.OUT_FOR_DELIVERY, 4, r"\bout for delivery\b"),
    (L.OUT_FOR_DELIVERY, 3, r"(on|loaded (on|onto)) (the |a )?(delivery )?(vehicle|van|truck) "
                            r"for delivery|with (the )?(delivery )?(courier|driver)"),
    (L.OUT_FOR_DELIVERY, 3, r"(will be|to be|should be|arriving|expected to be) delivered today|"
                            r"delivery (is )?(scheduled )?today|on (the |its )?way to you"),
    (L.OUT_FOR_DELIVERY, 3, r"\b(in zustellung|zustellfahrzeug|wird heute zugestellt)"),
    (L.OUT_FOR_DELIVERY, 3, r"(vandaag bezorgd|bezorgbus|bezorger is onderweg)"),
    (L.OUT_FOR_DELIVERY, 3, r"(en cours de livraison|en livraison|vehicule de livraison)"),
    (L.OUT_FOR_DELIVERY, 3, r"(wydana kurierowi|w doreczeniu|kurier doreczy)"),
    # --- available for pickup -------------------------------------------------------------------
    (L.AVAILABLE_FOR_PICKUP, 3, r"(ready|available|waiting|awaiting|held) for (customer |"
                                r"recipient )?(pick ?up|collection)"),
    (L.AVAILABLE_FOR_PICKUP, 3, r"(can|may) be (picked up|collected)|to be collected"),
    (L.AVAILABLE_FOR_PICKUP, 2, r"\b(pick ?up point|parcel ?shop|access point|locker|"
                                r"service point|collection point|post office|pickup location|"
                                r"parcel station)\b"),
    (L.AVAILABLE_FOR_PICKUP, 3, r"\b(abholbereit|zur abholung|packstation|paketshop|filiale)"),
    (L.AVAILABLE_FOR_PICKUP, 3, r"(afhaalpunt|servicepunt|klaar om op te halen|af te halen|"
                                r"pakketautomaat)"),
    (L.AVAILABLE_FOR_PICKUP, 3, r"(point relais|a retirer|disponible|consigne)"),
    (L.AVAILABLE_FOR_PICKUP, 3, r"(do odbioru|punkt(ie|u)? odbioru|paczkomat|czeka w)"),
    # --- delivered ------------------------------------------------------------------------------
    (L.DELIVERED, 3, r"\bdelivered\b"),
    (L.DELIVERED, 3, r"delivery (completed|successful|confirmed)|proof of delivery|"
                     r"signed (for )?by|\bsigned\b"),
    (L.DELIVERED, 3, r"(handed|given|left) (over )?(to|with) (the )?(recipient|consignee|"
                     r"receiver|customer|neighbor|reception|front door)"),
    (L.DELIVERED, 4, r"(picked up|collected) by (the )?(recipient|consignee|receiver|customer|"
                     r"addressee)"),
    (L.DELIVERED, 3, r"\b(zugestellt|ausgeliefert|abgegeben)\b"),
    (L.DELIVERED, 3, r"\b(bezorgd|afgeleverd|afgegeven)\b"),
    (L.DELIVERED, 3, r"\b(livre|distribue|remis)\b"),
    (L.DELIVERED, 3, r"\b(doreczono|doreczona|wydano|odebrana przez)"),
    # --- address issue --------------------------------------------------------------------------
    (L.ADDRESS_ISSUE, 4, r"(incorrect|incomplete|invalid|wrong|insufficient|bad|illegible|"
                         r"missing|unknown|inaccurate|partial) (delivery |street |consignee |"
                         r"recipient |shipping )?address"),
    (L.ADDRESS_ISSUE, 4, r"address (is |was )?(incorrect|incomplete|invalid|wrong|insufficient|"
                         r"unknown|not found|missing|corrected|correction|changed|does not "
                         r"exist|could not be found|needs|requires|unclear|problem|issue)"),
    (L.ADDRESS_ISSUE, 2, r"\baddress\b"),
    (L.ADDRESS_ISSUE, 3, r"(house|street|apartment|suite|unit|building|flat|room) "
                         r"(number|name|suffix)|postal code|zip ?code|post ?code"),
    (L.ADDRESS_ISSUE, 3, r"no such (street|number|address)|undeliverable as addressed|"
                         r"(recipient|consignee|addressee|receiver) (unknown|moved|has moved|no "
                         r"longer)|\bmoved\b|no longer (lives|at)|vacant"),
    (L.ADDRESS_ISSUE, 3, r"\b(adresse|anschrift|hausnummer|strasse|verzogen|unbekannt)"),
    (L.ADDRESS_ISSUE, 3, r"\b(adres|huisnummer|verhuisd|onbekend|woont hier niet)"),
    (L.ADDRESS_ISSUE, 3, r"(demenage|n habite plus|numero de rue|inconnu)"),
    (L.ADDRESS_ISSUE, 3, r"(wyprowadzil|zmienil adres|nieznany adresat|numer domu|adres)"),
    # --- recipient unavailable ------------------------------------------------------------------
    (L.RECIPIENT_UNAVAILABLE, 4, r"(not|nobody|no one|noone) (at )?home|nobody (was )?(there|"
                                 r"available|present|in)|no one (was )?(there|available|"
                                 r"present|in)|no answer"),
    (L.RECIPIENT_UNAVAILABLE, 4, r"(recipient|consignee|receiver|customer|addressee) (was |is )?"
                                 r"(not available|unavailable|absent|not present|not in|"
                                 r"not there|could not be reached)"),
    (L.RECIPIENT_UNAVAILABLE, 4, r"(business|company|office|shop|store|premises) (was |is )?"
                                 r"(closed|shut)|closed (on arrival|for business|at (the )?time)"
                                 r"|outside (business|opening) hours"),
    (L.RECIPIENT_UNAVAILABLE, 3, r"(delivery )?attempt(ed|s)?\b|first attempt|second attempt|"
                                 r"final attempt|tried to deliver|redeliver\w*"),
    (L.RECIPIENT_UNAVAILABLE, 3, r"(notice|card|note|slip|infonotice|door tag) (was )?"
                                 r"(left|delivered)|left (a )?(notice|card|note)|we missed you"),
    (L.RECIPIENT_UNAVAILABLE, 2, r"(no|without) (secure|safe) (location|place)|no access|"
                                 r"(access|gate|entry) (code|denied|restricted|not possible)|"
                                 r"mailbox (full|blocked)|receptacle|\bdog\b|animal"),
    (L.RECIPIENT_UNAVAILABLE, 2, r"(will|we ll) (try|attempt) again|next (business )?day "
                                 r"attempt|reschedul\w*|arrange (a )?(new )?delivery"),
    (L.RECIPIENT_UNAVAILABLE, 3, r"(nicht angetroffen|niemand|benachrichtigung\w*|"
                                 r"zustellversuch|geschlossen|nicht erreichbar)"),
    (L.RECIPIENT_UNAVAILABLE, 3, r"(niet thuis|niemand thuis|niet aanwezig|gesloten|"
                                 r"bezorgpoging|kaartje|gemist)"),
    (L.RECIPIENT_UNAVAILABLE, 3, r"(\babsent\b|avis de passage|\bferme\b|tentative de livraison|"
                                 r"personne)"),
    (L.RECIPIENT_UNAVAILABLE, 3, r"(nieobecn|awizo|nikogo|zamkniet|proba doreczenia)"),
    # --- refused --------------------------------------------------------------------------------
    (L.REFUSED, 4, r"\brefus\w*"),
    (L.REFUSED, 3, r"(declined|rejected|not accepted|turned down|did not (want|accept))"),
    (L.REFUSED, 3, r"(acceptance|delivery) (was )?(denied|declined|rejected)"),
    (L.REFUSED, 4, r"\b(verweigert|annahme|abgelehnt)"),
    (L.REFUSED, 4, r"\b(geweigerd|weigert|weigering)"),
    (L.REFUSED, 4, r"(odmow\w*|odmowil\w*)"),
    # --- customs hold ---------------------------------------------------------------------------
    (L.CUSTOMS_HOLD, 3, r"\bcustoms\b"),
    (L.CUSTOMS_HOLD, 2, r"\bclearance\b"),
    (L.CUSTOMS_HOLD, 3, r"\b(duty|duties|import (tax|taxes|charges|fees|vat)|taxes|vat)\b"),
    (L.CUSTOMS_HOLD, 3, r"\b(broker|brokerage|commercial invoice|pro ?forma|import (license|"
                        r"permit|declaration)|tariff|hs code)"),
    (L.CUSTOMS_HOLD, 2, r"(documents?|documentation|paperwork|invoice) (is |are )?(required|"
                        r"missing|needed|incomplete|requested|pending)|(missing|required|"
                        r"additional|incomplete) (documents?|documentation|paperwork|invoice)"),
    (L.CUSTOMS_HOLD, 2, r"held for payment|awaiting payment|payment of (duties|charges|taxes)"),
    (L.CUSTOMS_HOLD, 3, r"\b(zoll\w*|verzollung|einfuhr\w*|unterlagen)"),
    (L.CUSTOMS_HOLD, 3, r"\b(douane\w*|inklaring|invoerrechten|invoerkosten)"),
    (L.CUSTOMS_HOLD, 3, r"(dedouanement|droits et taxes|frais de douane)"),
    (L.CUSTOMS_HOLD, 3, r"(celn\w*|\bclo\b|odpraw\w*)"),
    # --- damaged --------------------------------------------------------------------------------
    (L.DAMAGED, 4, r"\bdamag\w*"),
    (L.DAMAGED, 3, r"\b(broken|crushed|torn|wet|leak\w*|spill\w*|dented|smashed|punctured)\b"),
    (L.DAMAGED, 2, r"\b(repack\w*|rewrap\w*|re ?taped|re ?boxed)\b"),
    (L.DAMAGED, 4, r"(beschadig\w*|beschaedigt|beschadigt|kaputt|zerbrochen)"),
    (L.DAMAGED, 4, r"(endommage\w*|abime\w*|casse\w*)"),
    (L.DAMAGED, 4, r"(uszkodz\w*)"),
    # --- lost -----------------------------------------------------------------------------------
    (L.LOST, 4, r"\blost\b"),
    (L.LOST, 3, r"\bmissing\b"),
    (L.LOST, 4, r"(cannot|can not|could not|unable to) (be )?(locate|located|find|found)|"
                r"not (be )?(located|found)|whereabouts"),
    (L.LOST, 3, r"\b(trace|tracer|investigation|search (has )?(started|initiated|in progress)|"
                r"being (searched|traced)|misplaced|no scan)"),
    (L.LOST, 4, r"(verloren|nicht auffindbar|nachforschung|verschollen)"),
    (L.LOST, 4, r"(vermist|zoekgeraakt|niet te vinden)"),
    (L.LOST, 4, r"(perdu|introuvable|egare)"),
    (L.LOST, 4, r"(zagubion\w*|zaginel\w*|zaginal\w*|nie mozna zlokalizowac|poszukiw\w*)"),
    # --- weather delay --------------------------------------------------------------------------
    (L.WEATHER_DELAY, 5, r"\bweather\b"),
    (L.WEATHER_DELAY, 4, r"\b(storm|snow\w*|ice|icy|flood\w*|hurricane|typhoon|tornado|"
                         r"wildfire|fire|earthquake|blizzard|fog|heavy rain|heat wave|"
                         r"landslide)\b"),
    (L.WEATHER_DELAY, 5, r"natural disaster|force majeure|act of god|state of emergency|"
                         r"emergency (condition|situation)"),
    (L.WEATHER_DELAY, 4, r"(unwetter|witterung\w*|wetter|hochwasser|sturm|schnee|glatteis)"),
    (L.WEATHER_DELAY, 4, r"(noodweer|weersomstandigheden|\bweer\b|sneeuw|overstroming|"
                         r"natuurramp)"),
    (L.WEATHER_DELAY, 4, r"(intemperies|meteo|tempete|neige|inondation|catastrophe naturelle)"),
    (L.WEATHER_DELAY, 4, r"(pogod\w*|burz\w*|snieg|powodz\w*|kleska zywiolowa)"),
    # --- carrier delay --------------------------------------------------------------------------
    (L.CARRIER_DELAY, 2, r"\bdelay\w*|\blate\b|behind schedule"),
    (L.CARRIER_DELAY, 4, r"missed (the |its |a )?(connection|transfer|flight|cut ?off|truck|"
                         r"plane|departure|linehaul)|not loaded|connection missed"),
    (L.CARRIER_DELAY, 4, r"\bmis ?(sort|sorted|route|routed|sent|shipped|directed)\b|"
                         r"sent to (the |a )?wrong|rerout\w*|wrong (depot|facility|hub|"
                         r"terminal)|sorting error"),
    (L.CARRIER_DELAY, 3, r"\b(capacity|high volume|heavy volume|volume|operational|"
                         r"mechanical|breakdown|strike|congestion)\b"),
    (L.CARRIER_DELAY, 3, r"(flight|trailer|truck|train|vessel|ferry) (was )?(cancelled|delayed|"
                         r"late)|late (arrival|trailer|truck|flight)"),
    (L.CARRIER_DELAY, 3, r"(verzogerung|verspat\w*|fehlleitung|fehlgeleitet|sortierfehler|panne|"
                         r"kapazitat\w*|sendungsaufkommen)"),
    (L.CARRIER_DELAY, 3, r"(vertraging|vertraagd|verkeerd gesorteerd|sorteerfout|pech|"
                         r"capaciteit|drukte)"),
    (L.CARRIER_DELAY, 3, r"(\bretard\b|erreur de tri|erreur d acheminement|panne|saturation)"),
    (L.CARRIER_DELAY, 3, r"(opoznien\w*|blad sortowania|awaria|przekierow\w*)"),
    # --- held by carrier security ---------------------------------------------------------------
    (L.HELD_BY_CARRIER_SECURITY, 5, r"dangerous goods|hazardous (material|goods|materials)|"
                                    r"\bhazmat\b|lithium|\bbatter(y|ies)\b"),
    (L.HELD_BY_CARRIER_SECURITY, 4, r"\b(prohibited|forbidden|restricted (item|commodity|"
                                    r"contents|goods|article)|not (allowed|permitted))"),
    (L.HELD_BY_CARRIER_SECURITY, 4, r"security (check|screening|hold|inspection|reasons|"
                                    r"control)|x ?ray|\bembargo|sanction\w*|denied party"),
    (L.HELD_BY_CARRIER_SECURITY, 3, r"\bregulatory\b|government agency|(held|detained) by "
                                    r"(the )?(authorities|government|agency)"),
    (L.HELD_BY_CARRIER_SECURITY, 4, r"(gefahrgut\w*|unzulassig\w*|sicherheits\w*|verbotene?)"),
    (L.HELD_BY_CARRIER_SECURITY, 4, r"(gevaarlijke (stoffen|goederen)|verboden|"
                                    r"veiligheidscontrole)"),
    (L.HELD_BY_CARRIER_SECURITY, 4, r"((marchandises|matieres) dangereuses|interdit|"
                                    r"controle de (surete|securite))"),
    (L.HELD_BY_CARRIER_SECURITY, 4, r"(niebezpieczn\w*|niedozwolon\w*|zakazan\w*|"
                                    r"kontrola bezpieczenstwa)"),
    # --- return to sender -----------------------------------------------------------------------
    (L.RETURN_TO_SENDER, 5, r"return(ed|ing)? (back )?to (the )?(sender|shipper|origin|"
                            r"merchant|seller)|return to sender"),
    (L.RETURN_TO_SENDER, 4, r"being returned|(sent|going|shipped) back|back to (the )?"
                            r"(sender|shipper)|return (initiated|in progress|shipment|started)"),
    (L.RETURN_TO_SENDER, 2, r"\breturn(ed|ing)?\b"),
    (L.RETURN_TO_SENDER, 4, r"(rucksendung|ruckversand|zuruck an|retoure)"),
    (L.RETURN_TO_SENDER, 4, r"(\bretour\w*|terug naar|teruggestuurd|terugbezorgd)"),
    (L.RETURN_TO_SENDER, 4, r"(retour (a|vers)|renvoye|retourne)"),
    (L.RETURN_TO_SENDER, 4, r"(zwrot\w*|zwrocono|wraca do nadawcy)"),
    # --- cancelled ------------------------------------------------------------------------------
    (L.CANCELLED, 4, r"\bcancel\w*|\bvoid(ed)?\b"),
    (L.CANCELLED, 4, r"(storniert|storno|annulliert)"),
    (L.CANCELLED, 4, r"(geannuleerd|ongeldig)"),
    (L.CANCELLED, 4, r"(annule\w*|annulation)"),
    (L.CANCELLED, 4, r"(anulowan\w*)"),
    (L.CARRIER_DELAY, 3, r"(flight|departure|linehaul) cancelled"),
    # --- other exception ------------------------------------------------------------------------
    (L.OTHER_EXCEPTION, 2, r"\bexception\b"),
    (L.OTHER_EXCEPTION, 3, r"cash on delivery|(payment|amount) (not )?(received|collected|"
                           r"failed|declined|required|due)|unable to (collect|receive) payment"),
    (L.OTHER_EXCEPTION, 3, r"(label|barcode) (is |was )?(unreadable|illegible|damaged|missing|"
                           r"torn)|(unreadable|illegible|damaged|missing) (label|barcode)|"
                           r"relabel\w*"),
    (L.OTHER_EXCEPTION, 2, r"(data|information|weight|dimensions?) (discrepancy|error|mismatch|"
                           r"incorrect)|incorrect (information|data|weight)"),
    (L.OTHER_EXCEPTION, 1, r"\b(on hold|held|problem|issue|under review|action required|"
                           r"contact (us|customer service|the (carrier|sender|shipper)))\b"),
    (L.OTHER_EXCEPTION, 3, r"(nachnahme|etikett unlesbar|fehlerhaft|klarung)"),
    (L.OTHER_EXCEPTION, 3, r"(rembours|onleesbaar|probleem)"),
    (L.OTHER_EXCEPTION, 3, r"(contre remboursement|illisible|anomalie|probleme)"),
    (L.OTHER_EXCEPTION, 3, r"(pobrani\w*|nieczyteln\w*|niezgodnosc)"),
)

# The milestone did not happen: take weight from it and add to the generic exception signal.
NEGATION_RULES: tuple[tuple[Label, float, str], ...] = (
    (L.DELIVERED, 4, r"(not|never|unable to|could not|cannot|can not|failed to|impossible to|"
                     r"unsuccessful|was not|couldn t|no) (be )?deliver\w*|undeliver\w*|"
                     r"delivery (failed|not possible|unsuccessful|exception|attempt)"),
    (L.DELIVERED, 4, r"nicht zugestellt|niet bezorgd|non (livre|distribue)|nie doreczon\w*"),
    (L.IN_TRANSIT, 2, r"(not|never|unable to|could not) (be )?(picked up|collected|loaded|"
                      r"processed|forwarded)"),
    (L.AVAILABLE_FOR_PICKUP, 2, r"not (picked up|collected)|unclaimed"),
)
# Generic signs that something went wrong, whatever it is.
EXCEPTION_CUES: tuple[tuple[float, str], ...] = (
    (2, r"\b(unable|could not|cannot|can not|failed|failure|problem|issue|exception|"
        r"unsuccessful|impossible)\b"),
    (1, r"\b(delay\w*|hold|held|pending|will be returned|not possible)\b"),
    (2, r"(nicht moglich|fehlgeschlagen|mislukt|echec|nieudan\w*)"),
)

N_LABELS = len(LABELS)
LABEL_INDEX = {lab: i for i, lab in enumerate(LABELS)}


@dataclass(frozen=True, slots=True)
class RuleHit:
    label: Label
    weight: float
    match: str


def _required_literals(pattern: str) -> tuple[str, ...] | None:
    """Literal strings one of which every match must contain, or None when unknown.

    A cheap prefilter: ``any(lit in text ...)`` costs nanoseconds, a regex search a
    microsecond, and most rows cannot fire on a given text.
    """
    from re import _constants as c  # type: ignore[attr-defined]
    from re import _parser  # type: ignore[attr-defined]

    def seq(items: list[tuple[object, object]]) -> tuple[str, ...] | None:
        best: tuple[str, ...] | None = None
        run: list[str] = []

        def better(cand: tuple[str, ...] | None) -> None:
            nonlocal best
            if cand and min(len(x) for x in cand) >= 3 and (
                best is None or min(len(x) for x in cand) > min(len(x) for x in best)
            ):
                best = cand

        for op, av in items:
            if op is c.LITERAL:
                run.append(chr(av))  # type: ignore[arg-type]
                continue
            better(("".join(run),) if run else None)
            run = []
            if op is c.SUBPATTERN:
                better(seq(list(av[-1])))  # type: ignore[index]
            elif op is c.BRANCH:
                alts = [seq(list(b)) for b in av[1]]  # type: ignore[index]
                if all(alts):
                    better(tuple(x for a in alts for x in a))  # type: ignore[union-attr]
            elif op in (c.MAX_REPEAT, c.MIN_REPEAT) and av[0] >= 1:  # type: ignore[index]
                better(seq(list(av[2])))  # type: ignore[index]
        better(("".join(run),) if run else None)
        return best

    return seq(list(_parser.parse(pattern)))


class _Compiled:
    """Rows compiled on their own; a row counts once per text, however often it matches.

    A substring test of every row's required literals (nanoseconds each) finds the few rows
    that can fire on a text; only those run their own regular expression.
    """

    def __init__(self, rows: Sequence[tuple[Label, float, str]]) -> None:
        self.rows: tuple[tuple[int, float, re.Pattern[str]], ...] = tuple(
            (LABEL_INDEX[label], float(weight), re.compile(pattern))
            for label, weight, pattern in rows
        )
        self._always: list[int] = []
        by_literal: dict[str, set[int]] = {}
        for i, (_, _, pattern) in enumerate(rows):
            literals = _required_literals(pattern)
            if literals is None:
                self._always.append(i)
                continue
            for lit in literals:
                by_literal.setdefault(lit, set()).add(i)
        self._literals: tuple[str, ...] = tuple(by_literal)
        self._rows_of: dict[str, frozenset[int]] = {k: frozenset(v) for k, v in by_literal.items()}

    def hits(self, text: str) -> list[tuple[int, float, str]]:
        candidates: set[int] = set(self._always)
        rows_of = self._rows_of
        for lit in [x for x in self._literals if x in text]:
            candidates |= rows_of[lit]
        out: list[tuple[int, float, str]] = []
        for i in sorted(candidates):
            idx, weight, rx = self.rows[i]
            m = rx.search(text)
            if m is not None:
                out.append((idx, weight, m.group(0)))
        return out


_POSITIVE = _Compiled(KEYWORD_RULES)
_NEGATIVE = _Compiled(NEGATION_RULES)
_CUES = tuple((w, re.compile(p)) for w, p in EXCEPTION_CUES)

# Feature layout of ``rule_features``: one score per label, then the generic exception signal.
N_RULE_FEATURES = N_LABELS + 1


def rule_hits(text: str) -> list[RuleHit]:
    """Every positive rule that fires on a normalized text (for explanations)."""
    return [RuleHit(LABELS[i], w, s) for i, w, s in _POSITIVE.hits(text)]


def rule_scores(text: str) -> np.ndarray:
    """Scores per label (``LABELS`` order) plus the generic exception signal, for one text."""
    out = np.zeros(N_RULE_FEATURES, dtype=np.float64)
    for idx, w, _ in _POSITIVE.hits(text):
        out[idx] += w
    generic = 0.0
    for idx, w, _ in _NEGATIVE.hits(text):
        out[idx] -= w
        generic += w
    for w, rx in _CUES:
        if rx.search(text):
            generic += w
    out[-1] = generic
    return out


def rule_features(texts: Sequence[str]) -> np.ndarray:
    """``rule_scores`` for many texts, squashed to ``sign(x) * log1p(|x|)``."""
    mat = np.zeros((len(texts), N_RULE_FEATURES), dtype=np.float64)
    for i, text in enumerate(texts):
        mat[i] = rule_scores(text)
    return np.sign(mat) * np.log1p(np.abs(mat))
