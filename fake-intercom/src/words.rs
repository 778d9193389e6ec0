//! Static vocabularies (names, places, products, sentences) that the
//! generator draws from to make the fake workspace read like a real one.

pub const FIRST_NAMES: &[&str] = &[
    "Olivia",
    "Liam",
    "Emma",
    "Noah",
    "Ava",
    "Oliver",
    "Sophia",
    "Elijah",
    "Isabella",
    "James",
    "Mia",
    "William",
    "Amelia",
    "Benjamin",
    "Harper",
    "Lucas",
    "Evelyn",
    "Henry",
    "Abigail",
    "Alexander",
    "Emily",
    "Daniel",
    "Ella",
    "Matthew",
    "Aoife",
    "Sean",
    "Niamh",
    "Ciaran",
    "Priya",
    "Arjun",
    "Mei",
    "Hiroshi",
    "Yuki",
    "Carlos",
    "Lucia",
    "Mateo",
    "Sofia",
    "Lars",
    "Ingrid",
    "Fatima",
    "Omar",
    "Amara",
    "Kwame",
    "Zara",
    "Nikolai",
    "Anya",
    "Pierre",
    "Chloe",
    "Giulia",
    "Marco",
];

pub const LAST_NAMES: &[&str] = &[
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Hernandez",
    "Lopez",
    "Gonzalez",
    "Wilson",
    "Anderson",
    "Thomas",
    "Taylor",
    "Moore",
    "Jackson",
    "Martin",
    "Lee",
    "Perez",
    "Thompson",
    "White",
    "Harris",
    "Murphy",
    "Kelly",
    "O'Brien",
    "Walsh",
    "Byrne",
    "Patel",
    "Singh",
    "Chen",
    "Wang",
    "Tanaka",
    "Sato",
    "Kim",
    "Nguyen",
    "Silva",
    "Santos",
    "Rossi",
    "Bianchi",
    "Muller",
    "Schmidt",
    "Dubois",
    "Laurent",
    "Johansson",
    "Novak",
    "Okafor",
    "Mensah",
];

/// (city, region, country, country_code, continent_code)
pub const LOCATIONS: &[(&str, &str, &str, &str, &str)] = &[
    ("San Francisco", "California", "United States", "US", "NA"),
    ("New York", "New York", "United States", "US", "NA"),
    ("Chicago", "Illinois", "United States", "US", "NA"),
    ("Austin", "Texas", "United States", "US", "NA"),
    ("Seattle", "Washington", "United States", "US", "NA"),
    ("Boston", "Massachusetts", "United States", "US", "NA"),
    ("Toronto", "Ontario", "Canada", "CA", "NA"),
    ("Vancouver", "British Columbia", "Canada", "CA", "NA"),
    ("Mexico City", "Mexico City", "Mexico", "MX", "NA"),
    ("Dublin", "Dublin", "Ireland", "IE", "EU"),
    ("London", "England", "United Kingdom", "GB", "EU"),
    ("Manchester", "England", "United Kingdom", "GB", "EU"),
    ("Paris", "Ile-de-France", "France", "FR", "EU"),
    ("Berlin", "Berlin", "Germany", "DE", "EU"),
    ("Munich", "Bavaria", "Germany", "DE", "EU"),
    ("Amsterdam", "North Holland", "Netherlands", "NL", "EU"),
    ("Madrid", "Madrid", "Spain", "ES", "EU"),
    ("Milan", "Lombardy", "Italy", "IT", "EU"),
    ("Stockholm", "Stockholm", "Sweden", "SE", "EU"),
    ("Warsaw", "Masovia", "Poland", "PL", "EU"),
    ("Sydney", "New South Wales", "Australia", "AU", "OC"),
    ("Melbourne", "Victoria", "Australia", "AU", "OC"),
    ("Auckland", "Auckland", "New Zealand", "NZ", "OC"),
    ("Tokyo", "Tokyo", "Japan", "JP", "AS"),
    ("Singapore", "Singapore", "Singapore", "SG", "AS"),
    ("Bengaluru", "Karnataka", "India", "IN", "AS"),
    ("Sao Paulo", "Sao Paulo", "Brazil", "BR", "SA"),
    ("Buenos Aires", "Buenos Aires", "Argentina", "AR", "SA"),
    ("Lagos", "Lagos", "Nigeria", "NG", "AF"),
    ("Cape Town", "Western Cape", "South Africa", "ZA", "AF"),
];

pub const COMPANY_PREFIXES: &[&str] = &[
    "Blue", "Red", "Silver", "Golden", "Bright", "Swift", "North", "South", "East", "West",
    "Quantum", "Atlas", "Nimbus", "Summit", "Harbor", "Granite", "Maple", "Cedar", "Orbit",
    "Pixel", "Vector", "Lumen", "Nova", "Apex", "Zenith", "Coral", "Falcon", "Iron", "Velvet",
    "Echo",
];

pub const COMPANY_CORES: &[&str] = &[
    "Sun", "River", "Peak", "Wave", "Stone", "Leaf", "Forge", "Bridge", "Field", "Light", "Cloud",
    "Path", "Signal", "Works", "Labs", "Logic", "Grid", "Spark", "Point", "Craft",
];

pub const COMPANY_SUFFIXES: &[&str] = &[
    "Inc",
    "Ltd",
    "Group",
    "Systems",
    "Technologies",
    "Partners",
    "Co",
    "Analytics",
    "Software",
    "Solutions",
    "Health",
    "Logistics",
    "Media",
    "Retail",
    "Finance",
];

pub const TLDS: &[&str] = &["com", "io", "co", "ai", "net", "dev", "app"];

pub const FREE_MAIL: &[&str] = &[
    "gmail.com",
    "outlook.com",
    "yahoo.com",
    "icloud.com",
    "hotmail.com",
    "proton.me",
];

pub const INDUSTRIES: &[&str] = &[
    "Software",
    "E-commerce",
    "Financial Services",
    "Healthcare",
    "Education",
    "Logistics",
    "Manufacturing",
    "Media",
    "Travel",
    "Real Estate",
    "Retail",
    "Telecommunications",
    "Non-profit",
    "Gaming",
    "Consulting",
];

pub const PLANS: &[&str] = &[
    "Starter",
    "Pro",
    "Premium",
    "Enterprise",
    "Essential",
    "Advanced",
];

pub const JOB_TITLES: &[&str] = &[
    "Support Engineer",
    "Customer Success Manager",
    "Head of Support",
    "Support Specialist",
    "Account Executive",
    "Product Manager",
    "Solutions Engineer",
    "Onboarding Specialist",
    "Technical Writer",
    "VP Customer Experience",
    "Billing Specialist",
    "Community Manager",
];

pub const TEAM_NAMES: &[&str] = &[
    "Support",
    "Sales",
    "Billing",
    "Onboarding",
    "Technical Support",
    "Customer Success",
    "Escalations",
    "VIP Support",
    "Partnerships",
    "Product Feedback",
];

pub const TAG_NAMES: &[&str] = &[
    "VIP",
    "Churn risk",
    "Beta tester",
    "Feature request",
    "Bug report",
    "Enterprise",
    "Upsell opportunity",
    "Onboarding",
    "Billing issue",
    "Needs follow-up",
    "Happy customer",
    "Partner",
    "Trial",
    "Power user",
    "Integration",
    "Security review",
    "Refund",
    "Escalated",
    "Newsletter",
    "Webinar attendee",
];

/// (name, person_type)
pub const SEGMENT_NAMES: &[(&str, &str)] = &[
    ("Active", "user"),
    ("New", "user"),
    ("Slipping Away", "user"),
    ("All leads", "contact"),
    ("Paying customers", "user"),
    ("Trial users", "user"),
    ("Engaged leads", "contact"),
    ("Mobile users", "user"),
    ("EU customers", "user"),
    ("Newsletter leads", "contact"),
];

pub const COMPANY_SEGMENT_NAMES: &[&str] = &[
    "Active companies",
    "Large accounts",
    "At-risk accounts",
    "New companies",
    "High spenders",
    "Dormant companies",
    "Strategic accounts",
    "SMB",
];

pub const SUBSCRIPTION_NAMES: &[(&str, &str)] = &[
    ("Newsletters", "Monthly product news and tips"),
    (
        "Product updates",
        "Announcements about new features and improvements",
    ),
    ("Offers", "Discounts, promotions and special offers"),
    (
        "Event invitations",
        "Invitations to webinars, meetups and conferences",
    ),
    ("Surveys", "Occasional requests for feedback"),
    (
        "Security alerts",
        "Important notices about account security",
    ),
];

pub const HELP_CENTER_NAMES: &[&str] = &[
    "Help Center",
    "Developer Docs",
    "Partner Portal",
    "Community Guides",
    "Internal Handbook",
];

pub const COLLECTION_NAMES: &[&str] = &[
    "Getting started",
    "Account & billing",
    "Integrations",
    "Troubleshooting",
    "Security",
    "Reporting",
    "Mobile apps",
    "API & webhooks",
    "Team management",
    "Workflows",
    "Data import",
    "Notifications",
    "Privacy",
    "Release notes",
    "Best practices",
];

pub const COLLECTION_ICONS: &[&str] = &[
    "book-bookmark",
    "bookmark",
    "chat-bubble",
    "lightbulb",
    "gear",
    "lock",
    "chart-bars",
    "phone",
    "users",
    "rocket",
];

pub const TOPICS: &[&str] = &[
    "billing",
    "invoices",
    "two-factor authentication",
    "password reset",
    "the mobile app",
    "integrations",
    "webhooks",
    "exports",
    "user permissions",
    "notifications",
    "the dashboard",
    "reports",
    "SSO",
    "data import",
    "the API",
    "custom domains",
    "team inboxes",
    "workflows",
    "automation rules",
    "the calendar sync",
];

pub const ARTICLE_VERBS: &[&str] = &[
    "How to set up",
    "Troubleshooting",
    "Understanding",
    "Getting started with",
    "Managing",
    "Configuring",
    "FAQ:",
    "Best practices for",
    "Migrating",
    "Securing",
];

pub const SENTENCES: &[&str] = &[
    "Open the settings page and choose the option that matches your plan.",
    "If the problem persists, clear your browser cache and sign in again.",
    "Changes can take up to five minutes to appear for everyone on your team.",
    "Only workspace owners and admins can change this setting.",
    "You will receive a confirmation email once the change has been applied.",
    "We recommend testing the configuration in a sandbox workspace first.",
    "The export runs in the background and you can keep working meanwhile.",
    "Contact our support team if you need help with a custom setup.",
    "This feature is available on the Pro and Enterprise plans.",
    "Invoices are generated on the first day of each billing cycle.",
    "Make sure the integration has the permissions it needs before you connect it.",
    "You can undo this action for up to thirty days.",
    "Each teammate can customise their own notification preferences.",
    "Use filters to narrow the list down to the records you care about.",
    "Webhooks are retried with exponential backoff for up to 24 hours.",
    "Two-factor authentication adds an extra layer of protection to your account.",
];

pub const CUSTOMER_LINES: &[&str] = &[
    "Hi, I can't log in to my account since this morning.",
    "Hello! Could you help me understand why I was charged twice this month?",
    "The export keeps failing halfway through, is there a known issue?",
    "We'd like to add five more seats to our plan, what's the best way to do that?",
    "Thanks, that worked perfectly!",
    "I've tried that already but I still see the same error message.",
    "Is there an API endpoint for this? We want to automate it.",
    "Our webhook stopped receiving events yesterday around 3pm.",
    "Can I change the email address on my account?",
    "The mobile app crashes when I open the reports tab.",
    "Great, appreciate the quick response.",
    "Could you send me the invoice for last month as a PDF?",
    "How do I invite my teammates to the workspace?",
    "We're evaluating your product and have a few security questions.",
];

pub const ADMIN_LINES: &[&str] = &[
    "Thanks for reaching out! I'm looking into this for you now.",
    "Could you share a screenshot of the error you're seeing?",
    "I've refunded the duplicate charge, it should appear in 5-10 business days.",
    "This was caused by a temporary issue on our side which is now resolved.",
    "You can find step-by-step instructions in our help center article on this topic.",
    "I've escalated this to our engineering team and will update you as soon as I hear back.",
    "Happy to help! Is there anything else I can do for you today?",
    "I've added the extra seats to your subscription, you can invite teammates right away.",
    "Could you confirm the email address associated with the account?",
    "Our API supports this, take a look at the endpoint reference in our developer docs.",
];

pub const NOTE_LINES: &[&str] = &[
    "Customer is on the annual plan, renewal due next quarter.",
    "Possible bug: reproduced on Safari 17, filed internally.",
    "Spoke with their account manager, prioritise this one.",
    "Refund approved by billing team.",
    "Follow up next week if no reply.",
    "Known issue, linking to the incident ticket.",
];

pub const BROWSERS: &[(&str, &str)] = &[
    ("chrome", "124.0.6367.91"),
    ("chrome", "126.0.6478.127"),
    ("firefox", "125.0"),
    ("safari", "17.4.1"),
    ("edge", "124.0.2478.80"),
];

pub const OSES: &[&str] = &[
    "OS X 10.15.7",
    "Windows 10",
    "Windows 11",
    "Linux",
    "iOS 17.4",
    "Android 14",
];

pub const LANGUAGES: &[&str] = &[
    "en", "en-US", "en-GB", "fr", "de", "es", "pt-BR", "ja", "it", "nl",
];

pub const IOS_DEVICES: &[&str] = &["iPhone 13", "iPhone 14 Pro", "iPhone 15", "iPad Air"];
pub const ANDROID_DEVICES: &[&str] = &["Pixel 7", "Pixel 8", "Galaxy S23", "OnePlus 11"];

pub const UTM_SOURCES: &[&str] = &[
    "google",
    "newsletter",
    "twitter",
    "linkedin",
    "partner",
    "producthunt",
];
pub const UTM_MEDIUMS: &[&str] = &["cpc", "email", "social", "referral", "organic"];
pub const UTM_CAMPAIGNS: &[&str] = &[
    "spring_launch",
    "black_friday",
    "webinar_q3",
    "brand",
    "retargeting",
];

pub const SOCIAL: &[(&str, &str)] = &[
    ("Twitter", "https://twitter.com/"),
    ("LinkedIn", "https://www.linkedin.com/in/"),
    ("GitHub", "https://github.com/"),
    ("Facebook", "https://www.facebook.com/"),
];

pub const CONVERSATION_TITLES: &[&str] = &[
    "Login problem",
    "Duplicate charge",
    "Export failing",
    "Seat upgrade",
    "Webhook outage",
    "Account email change",
    "Mobile app crash",
    "Invoice request",
    "Security questionnaire",
    "Feature question",
];

pub const SLA_NAMES: &[&str] = &["Standard 4h", "VIP 1h", "Enterprise 30m"];

pub const RATING_REMARKS: &[&str] = &[
    "",
    "Very helpful, thanks!",
    "Took a while but got sorted.",
    "Great support as always.",
    "Didn't solve my problem.",
    "Quick and friendly.",
];

pub const ISSUE_TYPES: &[&str] = &["Billing", "Bug", "How-to", "Account", "Feature request"];
pub const ACCOUNT_TIERS: &[&str] = &["Bronze", "Silver", "Gold", "Platinum"];
pub const CONTACT_SOURCES: &[&str] = &["Website", "Referral", "Event", "Partner", "Outbound"];
