// The neutral record of an affected person that the file codecs (people CSV, PFIF) produce and
// consume. Values stay raw text: the codecs only move data between formats; the crisis domain
// parses sex, dates, age and status later and reports what it cannot read.

/** PFIF fields without a PersonRecord column, kept so that a PFIF file re-exports without loss. */
export interface PfifPersonExtras {
  /** `domain/local-id`; the id the record had in its home repository. */
  personRecordId: string;
  entryDate?: string;
  expiryDate?: string;
  authorName?: string;
  authorEmail?: string;
  authorPhone?: string;
  sourceUrl?: string;
  photoUrl?: string;
  profileUrls?: string[];
  /**
   * The lines of a multi-line full_name, when it had more than one. The first is `fullName`; the
   * others are also in `alternateNames` (for search), and re-export puts them back in full_name.
   */
  fullNameLines?: string[];
  /**
   * Elements PFIF 1.4 does not define, by name: a bare local name for an element in a PFIF
   * namespace (`other` from PFIF 1.3), `{namespace-uri}local-name` for an extension element.
   * Several elements of one name are joined with line breaks.
   */
  extra?: Record<string, string>;
}

export interface PersonRecord {
  /** The id in the source (CSV "id" column, PFIF person_record_id): re-importing a file updates instead of duplicating. */
  sourceId: string | null;
  fullName: string;
  givenName: string | null;
  familyName: string | null;
  alternateNames: string[];
  /** Raw text; the domain parses it. */
  sex: string | null;
  /** Raw text: YYYY, YYYY-MM, YYYY-MM-DD or DD/MM/YYYY. */
  dateOfBirth: string | null;
  /** "N" or "N-M". */
  age: string | null;
  nationality: string | null;
  passportNumber: string | null;
  homeStreet: string | null;
  homeNeighborhood: string | null;
  homeCity: string | null;
  homeState: string | null;
  homePostalCode: string | null;
  homeCountry: string | null;
  location: string | null;
  latitude: string | null;
  longitude: string | null;
  phone: string | null;
  email: string | null;
  nokName: string | null;
  nokRelationship: string | null;
  nokPhone: string | null;
  nokEmail: string | null;
  description: string | null;
  needs: string | null;
  household: string | null;
  /** Raw text. From PFIF: the status of the most recent note that has one. */
  status: string | null;
  /** Who reported the person (PFIF source_name). */
  source: string | null;
  /** Raw text, ISO 8601 (PFIF source_date). */
  sourceDate: string | null;
  /** PFIF extras, kept for lossless round trips. */
  pfif?: PfifPersonExtras;
  /** PFIF notes about this person, oldest first as in the file. */
  notes?: PfifNote[];
}

/** A PFIF 1.4 note record. */
export interface PfifNote {
  noteRecordId: string;
  personRecordId: string | null;
  /** Set when the note links this person to a possible duplicate. */
  linkedPersonRecordId: string | null;
  entryDate: string | null;
  authorName: string;
  authorEmail: string | null;
  authorPhone: string | null;
  sourceDate: string;
  authorMadeContact: boolean | null;
  /** "" is not kept: null when unspecified; otherwise raw (information_sought, believed_alive, …). */
  status: string | null;
  emailOfFoundPerson: string | null;
  phoneOfFoundPerson: string | null;
  lastKnownLocation: string | null;
  text: string;
  photoUrl: string | null;
  /** Elements PFIF 1.4 does not define, named as in {@link PfifPersonExtras.extra}. */
  extra?: Record<string, string>;
}

/** The fields of a PersonRecord that hold one value of a file column (everything but pfif and notes). */
export type PersonField = Exclude<keyof PersonRecord, 'pfif' | 'notes'>;

/** A record with every optional field empty. */
export function emptyPersonRecord(fullName: string): PersonRecord {
  return {
    sourceId: null,
    fullName,
    givenName: null,
    familyName: null,
    alternateNames: [],
    sex: null,
    dateOfBirth: null,
    age: null,
    nationality: null,
    passportNumber: null,
    homeStreet: null,
    homeNeighborhood: null,
    homeCity: null,
    homeState: null,
    homePostalCode: null,
    homeCountry: null,
    location: null,
    latitude: null,
    longitude: null,
    phone: null,
    email: null,
    nokName: null,
    nokRelationship: null,
    nokPhone: null,
    nokEmail: null,
    description: null,
    needs: null,
    household: null,
    status: null,
    source: null,
    sourceDate: null,
  };
}
