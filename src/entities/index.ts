import {MessageEntity} from './message.js'
import {SessionEntity} from './session.js'

export {MessageEntity} from './message.js'
export {SessionEntity} from './session.js'

export const ENTITIES = [SessionEntity, MessageEntity]
