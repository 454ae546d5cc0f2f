"""What the mail-send validator says: SendGrid's error messages and the help anchors of its errors page.

Strings come from CONTRACT §3 or SendGrid's mail-send errors page (sendgrid/docs `Mail/errors.md`); the
ones we had to word ourselves are marked "ours".
"""

from __future__ import annotations

from typing import Final

from app.kernel.errors import MAIL_ERRORS_HELP

PERSONALIZATIONS_REQUIRED: Final = "The personalizations field is required and must have at least one personalization."
TOO_MANY_PERSONALIZATIONS: Final = (
    "The personalization block is limited to 1000 personalizations per API request. You have provided "
    "{n} personalizations. Please consider splitting this into multiple requests and resending your request."
)
TOO_MANY_RECIPIENTS: Final = "There is a limit of 1000 total recipients (to + cc + bcc) per request."
TO_REQUIRED: Final = (
    "The to array is required for all personalization objects, and must have at least one email object "
    "with a valid email address."
)
INVALID_ADDRESS: Final = "Does not contain a valid address."
DUPLICATE_RECIPIENT: Final = (
    "Each email address in the personalization block should be unique between to, cc, and bcc. "
    "We found the first duplicate instance of [{email}] in the {field} field."
)
FROM_REQUIRED: Final = (
    "The from object must be provided for every email send. It is an object that requires the email "
    'parameter, but may also contain a name parameter.  e.g. {"email" : "example@example.com"}  or '
    '{"email" : "example@example.com", "name" : "Example Recipient"}.'
)
FROM_INVALID: Final = "The from email does not contain a valid address."
REPLY_TO_REQUIRED: Final = (
    "The reply_to object, when used, must at least have an email parameter with a valid email address "
    'and it may also contain a name parameter. e.g. {"email": "example@example.com"} or '
    '{"email": "example@example.com", "name": "Example Recipient"}'
)
REPLY_TO_EXCLUSIVE: Final = "The reply_to and reply_to_list parameters cannot be used together."  # ours
TOO_MANY_REPLY_TO: Final = "There is a limit of 1000 email addresses in the reply_to_list."  # ours
DUPLICATE_REPLY_TO: Final = (  # ours
    "Each email address in the reply_to_list should be unique. "
    "We found the first duplicate instance of [{email}] in the reply_to_list field."
)
SUBJECT_REQUIRED: Final = (
    "The subject is required. You can get around this requirement if you use a template with a subject "
    "defined or if every personalization has a subject defined."
)
SUBJECT_EMPTY: Final = "The subject of your email must be a string at least one character in length."
CONTENT_REQUIRED: Final = (
    "Unless a valid template_id is provided, the content parameter is required. There must be at least one "
    "defined content block. We typically suggest both text/plain and text/html blocks are included, but "
    "only one block is required."
)
CONTENT_TYPE_REQUIRED: Final = "A content type is required, this tells email clients how to display the email."
CONTENT_TYPE_EMPTY: Final = "Your content type must be a string with length of at least one character."
CONTENT_TYPE_CHARS: Final = "Cannot contain ';', or CRLF characters."
CONTENT_VALUE_REQUIRED: Final = "A content value is required, this is the content of the email you are sending."
CONTENT_VALUE_EMPTY: Final = "The content value must be a string at least one character in length."
CONTENT_ORDER: Final = (
    "Following RFC 1341, section 7.2, if either text/html or text/plain are to be sent in your email: "
    "text/plain needs to be first, followed by text/html, followed by any other content."
)
ATTACHMENT_CONTENT_REQUIRED: Final = "The attachment content is required."
ATTACHMENT_CONTENT_EMPTY: Final = "The attachment content must be a string at least one character in length."
ATTACHMENT_NOT_BASE64: Final = "The attachment content must be base64 encoded."
FILENAME_REQUIRED: Final = "filename is required."
FILENAME_CHARS: Final = "The filename of your attachment cannot contain CRLF characters."
ATTACHMENT_TYPE_EMPTY: Final = "The attachment type must be a string and at least one character in length."
ATTACHMENT_TYPE_CHARS: Final = "The attachment type cannot contain ';', or CRLF characters."
DISPOSITION_INVALID: Final = (
    'The disposition of your attachment can be either "inline" or "attachment". You provided [{value}].'
)
CONTENT_ID_CHARS: Final = "The content ID of your attachment cannot contain CRLF characters."
CONTENT_ID_REQUIRED: Final = 'The content_id is required when the disposition is set to "inline".'  # ours
TEMPLATE_ID_INVALID: Final = "The template_id must be a valid GUID, you provided '{value}'."
HEADER_VALUES: Final = "The header values must be strings."
HEADER_DUPLICATE: Final = "The headers cannot contain duplicate keys."
HEADER_KEYS: Final = "Header keys cannot contain non-ASCII characters and empty spaces."
HEADER_RESERVED: Final = "Header can not be one of the reserved keys."
TOO_MANY_CATEGORIES: Final = (
    "There is a limit of 10 categories for each email that is sent. You provided {n} categories."
)
CATEGORIES_NOT_STRINGS: Final = "Categories must be an array of strings."
CATEGORY_TOO_LONG: Final = "Each category must not be longer than 255 characters. [{value}] exceeds this limit"
CATEGORY_DUPLICATE: Final = "The categories must be a unique list, and you have included [{value}] more than once."
CATEGORIES_NON_ASCII: Final = "Categories can not contain non-ASCII characters."
CUSTOM_ARGS_NOT_STRINGS: Final = "All values of custom arguments object must be strings"
CUSTOM_ARGS_TOO_LARGE: Final = (
    "The combined size of both global and personalization custom arguments may not exceed 10,000 bytes "
    "per personalization."
)
SUBSTITUTIONS_NOT_STRINGS: Final = (
    "The substitution values must be an object of key/value pairs, where the values are all strings."
)
SUBSTITUTIONS_TOO_LARGE: Final = (  # ours
    "The combined size of substitutions may not exceed 10,000 bytes per personalization."
)
SEND_AT_TOO_FAR: Final = "Scheduling more than 72 hours in advance is forbidden."
ASM_GROUP_REQUIRED: Final = "The ASM group ID is required when the asm object is used."  # ours
TOO_MANY_GROUPS: Final = "There is a limit of 25 unsubscribe groups that can be displayed to a user at a time."
IP_POOL_LENGTH: Final = "The name of your IP pool must be between 2 and 64 characters."  # ours
SANDBOX_ENABLE: Final = "The sandbox mode enable param should be a boolean value."
ROOT_HELP: Final = f"{MAIL_ERRORS_HELP}#-Request-Body-Parameters"
PERSONALIZATIONS_HELP: Final = f"{MAIL_ERRORS_HELP}#-Personalizations-Errors"
RECIPIENT_HELP: Final = f"{MAIL_ERRORS_HELP}#message.recipient-errors"
