import {CreateSessions1795300000000} from './1795300000000-CreateSessions.js'
import {CreateMessages1795300000001} from './1795300000001-CreateMessages.js'
import {AddMessageCompletionDetails1795300000002} from './1795300000002-AddMessageCompletionDetails.js'
import {AddMessageReplyTo1795300000003} from './1795300000003-AddMessageReplyTo.js'
import {AddSessionKept1795300000010} from './1795300000010-AddSessionKept.js'
import {AddSearchIndex1795300000020} from './1795300000020-AddSearchIndex.js'
import {AddSessionParentAndTitleIndex1795300000030} from './1795300000030-AddSessionParentAndTitleIndex.js'
import {AddMessageUsage1795300000050} from './1795300000050-AddMessageUsage.js'

/** Every migration, oldest first. New ones are appended here; a shipped one is never edited. */
export const MIGRATIONS = [
  CreateSessions1795300000000,
  CreateMessages1795300000001,
  AddMessageCompletionDetails1795300000002,
  AddMessageReplyTo1795300000003,
  AddSessionKept1795300000010,
  AddSearchIndex1795300000020,
  AddSessionParentAndTitleIndex1795300000030,
  AddMessageUsage1795300000050,
]
