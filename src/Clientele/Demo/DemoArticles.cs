using Clientele.Knowledge;

namespace Clientele.Demo;

/// <summary>The demo roaster's knowledge base: the questions its customers ask most, answered.</summary>
internal static class DemoArticles
{
    public static IEnumerable<Article> Create(DateTime now) => All.Select((a, i) => new Article
    {
        Id = Guid.CreateVersion7(),
        Slug = Slugs.From(a.Title),
        Title = a.Title,
        Category = a.Category,
        Summary = a.Summary,
        Tags = [.. a.Tags],
        Body = a.Body,
        Published = true,
        CreatedAt = now.AddDays(-120 + i * 9),
        UpdatedAt = now.AddDays(-30 + i * 3),
        UpdatedBy = "owner@northwind-roasters.example",
    });

    private sealed record Draft(string Title, string Category, string Summary, string[] Tags, string Body);

    private static readonly Draft[] All =
    [
        new("How long does shipping take?", "Shipping",
            "We roast Monday to Thursday and ship within one working day of roasting. Most US orders arrive in 2–4 working days.",
            ["delivery", "shipping times", "international"],
            """
            We roast to order, Monday to Thursday, and ship **within one working day of roasting**, so your coffee leaves us at its freshest.

            | Destination | Usually arrives in |
            |---|---|
            | United States | 2–4 working days |
            | Canada | 4–8 working days |
            | United Kingdom and Europe | 5–10 working days |
            | Australia and Japan | 7–14 working days |

            Shipping is **free on US orders over $40**. Orders placed on Friday, at the weekend or on a public holiday are roasted on the next roasting day.

            Customs can add a few days to international deliveries; any import duty is charged by your country's carrier on delivery.

            Want to follow your parcel? See [How do I track my order?](/kb/how-do-i-track-my-order)
            """),
        new("How do I track my order?", "Shipping",
            "Every order gets a tracking link by e-mail when it ships; you also find it under Account → Orders.",
            ["tracking", "parcel", "where is my order", "late delivery"],
            """
            When your order leaves the roastery we send you an e-mail titled **"Your order is on its way"** with a tracking link.
            You also find the link any time under **Account → Orders** on our shop.

            What the tracking status means:

            - **Label created**: your coffee is roasted and packed; the carrier has not scanned it yet. This can take up to one working day.
            - **In transit**: it is on its way.
            - **Out for delivery**: it arrives today.

            If the tracking shows **no movement for five working days**, or says delivered but you have no parcel, reply to your
            shipping e-mail with your order number and we will look into it with the carrier — and send a replacement if it is lost.
            """),
        new("Returns and refunds", "Orders",
            "Equipment can be returned unused within 30 days. If you don't love a coffee or tea, tell us within 30 days and we replace or refund it.",
            ["return", "refund", "money back", "damaged", "exchange"],
            """
            ## Coffee and tea

            Opened food cannot be resold, but our **happiness guarantee** still applies: if you don't love a coffee or tea, tell us
            within 30 days of delivery and we will send another roast of your choice or refund it. No need to send it back.

            ## Equipment

            Unused equipment — a grinder, kettle, dripper or brewer — in its original box can be returned **within 30 days** of
            delivery for your money back. Reply to your order
            confirmation to get a free return label. Used equipment that has a fault is covered by the
            [warranty](/kb/warranty-on-brewing-equipment) instead.

            ## Damaged in transit

            Send us a photo of the parcel and the damage within 7 days and we ship a replacement straight away.

            ## When you get your money

            Refunds go back to the original payment method within **5–7 working days** of us approving them.
            """),
        new("How do I reset my password?", "Account",
            "Choose \"Forgot password?\" on the sign-in page and we e-mail you a link to set a new one; the link works for one hour.",
            ["password", "login", "sign in", "account access"],
            """
            1. Go to **Sign in** on our shop and choose **Forgot password?**
            2. Enter the e-mail address you order with.
            3. Open the e-mail we send you and follow the link to choose a new password. The link works for **one hour**.

            No e-mail after a few minutes? Check your spam or promotions folder, and make sure you used the address on your orders.

            If you no longer have access to that e-mail address, contact us from your new address with your name and a recent order
            number, and we will move your account over.
            """),
        new("How to clean your Burr Grinder Pro", "Equipment",
            "Brush the burrs weekly and deep-clean the grinder every month with grinder cleaning tablets — never with rice.",
            ["grinder", "cleaning", "maintenance", "burrs"],
            """
            Old coffee oils go stale and make fresh coffee taste bitter, so a clean grinder makes better coffee.

            ## Every week

            Run the grinder empty for a few seconds, then brush out the chute with the brush that came with it.

            ## Every month: a deep clean

            1. Unplug the grinder and empty the bean hopper.
            2. Turn the hopper anticlockwise and lift it off.
            3. Lift out the upper burr by its handle.
            4. Brush both burrs and the grinding chamber; a small vacuum helps with the fines.
            5. Put the upper burr back, aligning the arrows, and refit the hopper.
            6. Grind a handful of **grinder cleaning tablets** through it, then a few grams of coffee to throw away.

            **Never grind rice** to clean it: it is harder than coffee and can damage the burrs and void the
            [warranty](/kb/warranty-on-brewing-equipment). Never wash the burrs with water.

            After cleaning, check your grind setting with a test brew — it can shift by a step.
            """),
        new("Warranty on brewing equipment", "Equipment",
            "The Burr Grinder Pro has a 2-year warranty and the Gooseneck Kettle 1 year; glass breakage is not covered.",
            ["warranty", "guarantee", "broken", "repair", "faulty", "kettle", "grinder"],
            """
            | Product | Warranty |
            |---|---|
            | Burr Grinder Pro | 2 years |
            | Gooseneck Kettle | 1 year |
            | AeroPress Go | 1 year |
            | Hario V60 Dripper, Chemex | manufacturing faults only; glass breakage is not covered |

            The warranty covers faults in materials and workmanship in normal home use. It does not cover wear parts, damage from
            drops, descaling neglect, or cleaning with rice or water (see [How to clean your Burr Grinder Pro](/kb/how-to-clean-your-burr-grinder-pro)).

            ## How to claim

            Reply to your order confirmation, or write to us with your **order number**, a short description and a photo or
            video of the fault. We will repair or replace it — usually within a week — and pay for the shipping both ways.
            """),
        new("Pause, skip or cancel your subscription", "Subscriptions",
            "Manage your Monthly Coffee Club, Espresso Lovers, Tea Explorer or Office Coffee Box under Account → Subscriptions; changes made by Wednesday apply to that week's roast.",
            ["subscription", "coffee club", "cancel", "pause", "skip", "office coffee box"],
            """
            All our subscriptions — the **Monthly Coffee Club**, **Espresso Lovers Monthly**, **Tea Explorer Monthly** and the
            **Office Coffee Box** — are managed under **Account → Subscriptions**. There you can:

            - **Skip** the next delivery,
            - **Pause** for up to three months,
            - **change** the coffee, grind or delivery address,
            - **cancel** at any time, with no fee.

            Changes made by **Wednesday at midnight** apply to that week's roast; later ones apply to the next delivery.

            Going away? Pause rather than cancel and you keep your subscriber price.
            """),
        new("How fresh is the coffee, and how should I store it?", "Coffee",
            "Every bag shows its roast date. Coffee tastes best 5 to 30 days after roasting; keep it sealed, dark and cool, but not in the fridge.",
            ["freshness", "roast date", "storage", "beans", "whole bean", "ground"],
            """
            Every bag carries its **roast date**. Coffee is at its best from about **5 to 30 days after roasting**: in the first
            days it still releases carbon dioxide, and after a month its aromas fade.

            To keep it fresh:

            - Keep the beans in their bag, squeezed and sealed, or in an airtight container.
            - Keep them dark and cool — a cupboard, **not the fridge**, where moisture and smells get in.
            - Buy **whole beans** and grind just before brewing if you can; ground coffee fades within days.
            - Freeze only what you won't open for a few weeks, in small sealed portions, and don't refreeze.

            Teas keep for about a year sealed; green teas such as the Kyoto Sencha are best within six months.
            """),
    ];
}
