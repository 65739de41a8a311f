"""What bots, agents, the IVR and customers say, and the names and PII templates they say it with."""

from __future__ import annotations

from cx_signals.generate.params import BRAND

BOT_GREETINGS = (
    f"Hi! I'm Nova, {BRAND}'s virtual assistant. How can I help today?",
    f"Hello, you're chatting with Nova, the {BRAND} assistant. What can I do for you?",
)
BOT_CLARIFY = (
    "Thanks. Could you tell me a bit more?",
    "I can help with that. Can you give me some more detail?",
    "Got it. What exactly is going wrong?",
)
BOT_REPHRASE = "Sorry, I didn't quite get that. Could you put it another way?"
BOT_HANDOFF = ("Let me connect you with a member of our team.", "I'll pass you to one of our agents now.")
BOT_BYE_OK = "Glad I could help. Have a great day!"
BOT_BYE_FAIL = "Sorry I couldn't sort that out. You can reach us any time."
BOT_BYE_ASSUMED = "I'll close this chat now. Message us any time if you need more help."
SYSTEM_QUEUE = "You're in the queue. An agent will be with you shortly."
SYSTEM_TRANSFER = "You're being transferred to the {team} team."
IVR_GREETING = f"Welcome to {BRAND}. In a few words, tell me why you're calling."
IVR_HANDOFF = "Thanks. Let me find someone to help you with that."
IVR_BYE = "Thanks for calling. Goodbye."
EMAIL_ACK = "Thanks for your email. Your reference is {ref}. We'll reply within 24 hours."
SOCIAL_REPLY = "Sorry to hear that! Please send us a DM and we'll look into it."
AGENT_GREETINGS = (
    "Hi, I'm {name}. Thanks for waiting, I'm looking into this now.",
    "Hello, this is {name}. Sorry for the trouble, let me check your account.",
    "Hi there, {name} here. I'll help you with this today.",
)
AGENT_TRANSFER_GREETING = "Hi, this is {name} from the {team} team. I've read the notes."
AGENT_CHECKS = (
    "Let me check what happened on our side.",
    "I can see your account here.",
    "Thanks, one moment while I look at the history.",
    "I'm checking with the system now.",
    "Okay, I can see the last few transactions.",
    "I can see what went wrong there.",
    "Right, I'm updating the case now.",
    "I'm adding a note to your account.",
)
AGENT_RECAP = "Sorry, could you explain the problem once more?"
AGENT_HOLD = ("Let me look into that. Can I put you on a short hold?", "I need to check with a colleague, please hold.")
AGENT_HOLD_BACK = ("Thanks for holding.", "Thank you for your patience.")
AGENT_TRANSFER = "I'm going to transfer you to our {team} team, they can help with this."
AGENT_ESCALATION_REPLY = "I understand. Let me see what I can do right now."
AGENT_UNRESOLVED = (
    "I'm sorry, I can't fix this today. I've raised a ticket and we'll update you.",
    "I've passed this to the specialist team, they'll get back to you within 48 hours.",
)
AGENT_STILL_THERE = "Are you still there?"
AGENT_BYE = f"Thanks for contacting {BRAND}. Have a good day."
ORDER_ASK = "Could you give me the order number?"
ORDER_ANSWER = "It's order {order}."
LAST4_ASK = "For security, can you confirm the last four digits of the card on file?"
LAST4_ANSWER = "They're {last4}."

CUSTOMER_ACKS = (
    "Okay.",
    "Sure, go ahead.",
    "Yes, that's right.",
    "Alright, I'm here.",
    "Fine.",
    "No problem.",
    "Yep, still waiting.",
    "Understood.",
)
REPEAT_OPENERS = (
    "This is the second time I'm contacting you about this.",
    "I already contacted you about this and nothing happened.",
    "I'm getting in touch again because this still isn't fixed.",
)
FRUSTRATION = (
    "This is really frustrating.",
    "Honestly, this is terrible service.",
    "I'm so annoyed right now.",
    "This is ridiculous, I've wasted an hour on this.",
)
CUSTOMER_THANKS = (
    "Great, that worked. Thank you so much!",
    "Perfect, thanks for your help.",
    "Brilliant, all sorted now, thanks!",
)
CUSTOMER_UNHAPPY = (
    "That doesn't help at all.",
    "So nothing is fixed. Unbelievable.",
    "Useless. I'll have to contact you again.",
)
CUSTOMER_WAITING = "Okay, I'll wait for the update then."
# The customer takes the bot's answer without saying whether it worked (an assumed resolution): neither negative nor
# a confirmation (bots.confirmation_patterns) nor an escalation request.
CUSTOMER_WILL_TRY = ("OK, I'll try that.", "Right, I'll give that a go.", "OK, will do.")
# Every one matches a conversation.escalation_patterns regex; no other customer text does.
ESCALATION_REQUESTS = (
    "I want to speak to a human.",
    "Can I talk to a real person, please?",
    "Get me your manager.",
    "I want to file a complaint.",
    "Let me speak to a supervisor.",
    "I'd like to chat with an agent, please.",
)
PII_KINDS = ("email", "phone", "card", "iban")
PII_ASK = {
    "email": "Can you confirm the email address on your account?",
    "phone": "What's the best number to reach you on?",
    "card": "Which card did you use for the payment?",
    "iban": "Where should we send the money back to?",
}
PII_ANSWER = {
    "email": ("Sure, it's {v}.", "It's {v}"),
    "phone": ("You can reach me on {v}.", "My number is {v}."),
    "card": ("It was my card {v}.", "The card number is {v}."),
    "iban": ("Please send it to my IBAN {v}.", "My IBAN is {v}."),
}
EMAIL_SENTENCE = {
    "email": "My email is {v}.",
    "phone": "Please call me on {v}.",
    "card": "The card I used is {v}.",
    "iban": "Please refund to {v}.",
}
FIRST_NAMES = ("jane", "alex", "maria", "tom", "li", "sara", "omar", "nina", "ravi", "emma")
LAST_NAMES = ("doe", "smith", "garcia", "nguyen", "kowalski", "brown", "okafor", "jensen")
EMAIL_DOMAINS = ("example.com", "example.org", "mail.example.net")
DEVICES = ("iPhone 15", "Pixel 8", "Galaxy S23", "iPad", "laptop")
AGENT_NAMES = ("Sam", "Priya", "Jonas", "Maria", "Tom", "Aisha", "Lena", "Diego", "Chloe", "Marcus", "Yuki", "Omar")
