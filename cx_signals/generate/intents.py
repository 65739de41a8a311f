"""Contact reasons: how customers reach out about each and how it tends to go."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Intent:
    """A contact reason: how customers reach out about it and how it tends to go."""

    name: str
    share: float
    channels: dict[str, float]
    team: str
    bot_contain: float  # P(bot alone handles it) on chat/messaging
    resolve: float  # P(resolved) once an agent handles it
    exchanges: tuple[int, int]  # agent/customer exchanges, min and max
    transfer: float
    hold: float  # P(hold) on voice
    web_session: float  # P(web/app session just before the contact), scaled by channel
    friction: float  # P(that session had planted friction)
    scenario: str  # friction planted before contacts about this intent
    pages: tuple[str, ...]
    article: str
    uses_order: bool
    ivr: str  # what the caller tells the IVR
    requests: tuple[str, ...]
    details: tuple[str, ...]
    bot_fix: str
    agent_fix: tuple[str, ...]


INTENTS: tuple[Intent, ...] = (
    Intent(
        name="password_reset",
        share=0.12,
        channels={"chat": 0.45, "messaging": 0.2, "voice": 0.15, "email": 0.15, "social": 0.05},
        team="accounts",
        bot_contain=0.78,
        resolve=0.9,
        exchanges=(2, 3),
        transfer=0.03,
        hold=0.15,
        web_session=0.6,
        friction=0.5,
        scenario="login_fail",
        pages=("/login",),
        article="reset-password",
        uses_order=False,
        ivr="Password reset.",
        requests=(
            "I can't log in, I forgot my password.",
            "How do I reset my password?",
            "The password reset email never arrived.",
            "My reset link says it has expired.",
        ),
        details=(
            "I checked my spam folder and there's nothing there.",
            "I'm using the app on my {device}.",
            "The link opens a blank page for me.",
        ),
        bot_fix="I've sent a new reset link to the email on your account. It's valid for 30 minutes.",
        agent_fix=(
            "I've reset it on my side and sent a fresh link, it should arrive in a minute.",
            "I've cleared the old links, please use the new email I just sent.",
        ),
    ),
    Intent(
        name="account_locked",
        share=0.07,
        channels={"chat": 0.35, "voice": 0.35, "email": 0.15, "messaging": 0.1, "social": 0.05},
        team="accounts",
        bot_contain=0.3,
        resolve=0.8,
        exchanges=(2, 4),
        transfer=0.1,
        hold=0.3,
        web_session=0.55,
        friction=0.6,
        scenario="login_fail",
        pages=("/login",),
        article="account-locked",
        uses_order=False,
        ivr="Locked account.",
        requests=(
            "My account is locked after too many login attempts.",
            "It says my account has been suspended for security reasons.",
            "I'm locked out of my account and need access today.",
        ),
        details=(
            "I tried logging in from my {device} this morning.",
            "I didn't get any security email from you.",
            "I need to pay a bill today so this is urgent.",
        ),
        bot_fix="For your security I've sent an unlock code by text message. Enter it on the login page.",
        agent_fix=("I've verified your identity and unlocked the account. Please set a new password.",),
    ),
    Intent(
        name="billing_dispute",
        share=0.1,
        channels={"voice": 0.55, "email": 0.2, "chat": 0.15, "messaging": 0.05, "social": 0.05},
        team="billing",
        bot_contain=0.05,
        resolve=0.55,
        exchanges=(4, 8),
        transfer=0.35,
        hold=0.6,
        web_session=0.35,
        friction=0.3,
        scenario="rage_invoice",
        pages=("/billing", "/billing/invoices"),
        article="understanding-your-bill",
        uses_order=False,
        ivr="Billing problem.",
        requests=(
            "I was charged {amount} twice this month.",
            "There's a charge of {amount} on my bill I don't recognise.",
            "My invoice is higher than my plan, I was billed {amount}.",
            "You charged me after I cancelled.",
        ),
        details=(
            "The charge is dated last Tuesday.",
            "My plan should be much cheaper than that.",
            "I can't download the invoice to check it.",
        ),
        bot_fix="Here's a breakdown of your latest bill. Charges usually appear within 3 working days.",
        agent_fix=(
            "I've reversed the duplicate charge, you'll see {amount} back within 5 working days.",
            "I've applied a credit of {amount} to your next bill.",
        ),
    ),
    Intent(
        name="delivery_status",
        share=0.16,
        channels={"chat": 0.4, "messaging": 0.25, "voice": 0.15, "email": 0.1, "social": 0.1},
        team="orders",
        bot_contain=0.7,
        resolve=0.85,
        exchanges=(2, 4),
        transfer=0.05,
        hold=0.2,
        web_session=0.5,
        friction=0.25,
        scenario="slow_site",
        pages=("/orders", "/orders/{order}"),
        article="track-your-order",
        uses_order=True,
        ivr="Delivery status.",
        requests=(
            "Where is my order {order}?",
            "My package was supposed to arrive yesterday.",
            "Tracking for order {order} hasn't updated in four days.",
            "Can you tell me when order {order} will be delivered?",
        ),
        details=(
            "The tracking page just says in transit.",
            "I paid for express delivery.",
            "Nobody left a card or a note at the door.",
        ),
        bot_fix="Your order {order} is with the courier and due tomorrow before 6 pm.",
        agent_fix=(
            "The courier had a delay at the depot, order {order} will arrive tomorrow.",
            "I've asked the courier to prioritise it and refunded the express fee of {amount}.",
        ),
    ),
    Intent(
        name="refund_request",
        share=0.11,
        channels={"chat": 0.35, "email": 0.25, "voice": 0.25, "messaging": 0.1, "social": 0.05},
        team="returns",
        bot_contain=0.25,
        resolve=0.65,
        exchanges=(3, 5),
        transfer=0.12,
        hold=0.35,
        web_session=0.45,
        friction=0.4,
        scenario="refund_form",
        pages=("/orders", "/orders/{order}"),
        article="refunds-and-returns",
        uses_order=True,
        ivr="Refund.",
        requests=(
            "I returned order {order} two weeks ago and still have no refund.",
            "I'd like a refund of {amount} for a damaged item.",
            "How long does a refund take? It's been ten days.",
        ),
        details=(
            "The courier confirmed the return was delivered.",
            "The item arrived broken in the box.",
            "The returns form gives me an error.",
        ),
        bot_fix="Refunds are issued within 5 days of the return arriving at our warehouse.",
        agent_fix=("I've issued the refund of {amount} today, it takes 3 to 5 working days to show.",),
    ),
    Intent(
        name="cancel_subscription",
        share=0.08,
        channels={"voice": 0.45, "chat": 0.35, "email": 0.15, "messaging": 0.05},
        team="retention",
        bot_contain=0.15,
        resolve=0.75,
        exchanges=(3, 6),
        transfer=0.2,
        hold=0.4,
        web_session=0.45,
        friction=0.35,
        scenario="rage_cancel",
        pages=("/account", "/subscription"),
        article="cancel-subscription",
        uses_order=False,
        ivr="Cancel subscription.",
        requests=(
            "I want to cancel my subscription.",
            "Please close my account and stop the monthly payments.",
            "How do I cancel? I can't find the button anywhere.",
        ),
        details=(
            "I'm moving abroad next month.",
            "It's too expensive for what I use.",
            "The cancel button on the website does nothing.",
        ),
        bot_fix="You can cancel under Account, Subscription. Your plan stays active until the end of the period.",
        agent_fix=(
            "I've cancelled the subscription, you won't be charged again.",
            "Done, your subscription ends on the last day of this billing period.",
        ),
    ),
    Intent(
        name="app_crash",
        share=0.07,
        channels={"chat": 0.3, "email": 0.3, "social": 0.15, "messaging": 0.1, "voice": 0.15},
        team="tech_support",
        bot_contain=0.3,
        resolve=0.5,
        exchanges=(3, 5),
        transfer=0.15,
        hold=0.2,
        web_session=0.55,
        friction=0.7,
        scenario="crash",
        pages=("/account", "/orders"),
        article="app-troubleshooting",
        uses_order=False,
        ivr="App crashing.",
        requests=(
            "The app keeps crashing when I open my account.",
            "Your app closes as soon as I tap on orders.",
            "Since the last update the app crashes on my {device}.",
        ),
        details=(
            "I already reinstalled it twice.",
            "It worked fine last week.",
            "I'm on the latest version.",
        ),
        bot_fix="Please update to the latest version and restart your phone. That fixes most crashes.",
        agent_fix=("Our developers found the bug, a fix ships tomorrow. Until then the website works.",),
    ),
    Intent(
        name="payment_failed",
        share=0.12,
        channels={"chat": 0.4, "voice": 0.3, "messaging": 0.15, "email": 0.1, "social": 0.05},
        team="payments",
        bot_contain=0.35,
        resolve=0.6,
        exchanges=(3, 5),
        transfer=0.15,
        hold=0.35,
        web_session=0.65,
        friction=0.75,
        scenario="checkout_fail",
        pages=("/cart",),
        article="update-payment-method",
        uses_order=True,
        ivr="Payment failed.",
        requests=(
            "My payment keeps failing at checkout.",
            "I tried to pay {amount} and it says the card was declined.",
            "Checkout gives me an error every time I press pay.",
        ),
        details=(
            "My bank says there's no problem with the card.",
            "I tried two different cards.",
            "The basket comes to {amount}.",
        ),
        bot_fix="Payments can fail when the billing address doesn't match the card. Please check it and try again.",
        agent_fix=(
            "There was a fraud check on our side, I've cleared it. Please try the payment again now.",
            "I've placed the order for you by phone, order {order} is confirmed.",
        ),
    ),
    Intent(
        name="change_address",
        share=0.09,
        channels={"chat": 0.45, "messaging": 0.25, "email": 0.15, "voice": 0.15},
        team="orders",
        bot_contain=0.65,
        resolve=0.9,
        exchanges=(2, 3),
        transfer=0.05,
        hold=0.2,
        web_session=0.45,
        friction=0.25,
        scenario="address_form",
        pages=("/account", "/account/address"),
        article="change-delivery-address",
        uses_order=True,
        ivr="Change of address.",
        requests=(
            "I need to change the delivery address for order {order}.",
            "I moved, how do I update my address?",
            "Can you send order {order} to my work address instead?",
        ),
        details=(
            "The new address is in the same city.",
            "The address form won't accept my postcode.",
            "The order hasn't shipped yet.",
        ),
        bot_fix="You can change the address under Account, Addresses until the order ships.",
        agent_fix=("I've updated the delivery address on order {order}.",),
    ),
    Intent(
        name="technical_issue",
        share=0.08,
        channels={"chat": 0.35, "voice": 0.3, "email": 0.25, "social": 0.1},
        team="tech_support",
        bot_contain=0.2,
        resolve=0.55,
        exchanges=(3, 6),
        transfer=0.15,
        hold=0.3,
        web_session=0.55,
        friction=0.6,
        scenario="broken_page",
        pages=("/account", "/account/settings"),
        article="troubleshooting",
        uses_order=False,
        ivr="Technical problem.",
        requests=(
            "The website shows an error when I open my account page.",
            "Pages keep loading forever and then fail.",
            "Nothing happens when I press save in my settings.",
        ),
        details=(
            "I tried another browser as well.",
            "It started on Monday.",
            "The error mentions a server problem.",
        ),
        bot_fix="Please clear your browser cache and try again. If it persists we'll look into it.",
        agent_fix=("We had an outage on the account service, it's fixed now. Please try again.",),
    ),
)
