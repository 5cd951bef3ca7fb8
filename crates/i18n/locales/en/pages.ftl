# The pages: the layout, then each page in the order a person meets them.

site-name = Catalog
site-tagline = Catalog — products and the people who make them.
nav-main = Main
nav-categories = Categories
nav-products = Products
nav-new-product = New product
nav-profile = Profile
nav-sign-out = Sign out
nav-sign-in = Sign in
nav-register = Register
language-switch = Language
language-switch-button = Switch
language-name-en = English
language-name-ru = Русский

errors-summary = Please correct the errors below.
back-to-start = Back to the start page

home-title = Welcome
home-heading = Catalog
home-lead = A catalog of products, kept by the people who make them.
home-browse = Browse products
home-create-account = Create an account
home-or = or
home-sign-in = sign in

login-title = Sign in
login-heading = Sign in
login-resend = Send the confirmation link again
login-email = Email
login-password = Password
login-submit = Sign in
login-forgot = Forgot password?
login-new-here = New here?
login-create-account = Create an account

register-title = Register
register-heading = Create an account
register-email = Email
register-password = Password
register-password-help = At least 8 characters, not entirely numeric, not a common password.
register-password-again = Password again
register-submit = Register
register-have-account = Already have an account?
register-sign-in = Sign in

register-done-heading = Check your email
register-done-sent = If the address can be registered, a message with a confirmation link is on its way. Open the link to activate your account.
register-done-spam = Nothing arrived after a few minutes? Look in your spam folder, or sign in to have the link sent again.

verify-heading = Confirm your email address
verify-text = Confirm that { $email } is your address to activate your account.
verify-button = Confirm my email
link-invalid-title = Link not valid
link-invalid-heading = This link cannot be used
link-invalid-new = Get a new link
link-invalid-email = Email
link-invalid-submit = Send me a new link
link-expired-reason = The confirmation link has expired: links work for three days.
link-broken-reason = The confirmation link is not valid. Perhaps it was copied incompletely.
link-enter-address = Enter the address you registered with.

reset-title = Forgot password
reset-heading = Forgot your password?
reset-lead = Enter your email address. We will send you a new password that works for one hour; your current password keeps working until you use it.
reset-email = Email
reset-submit = Send me a new password
reset-done-heading = Check your email
reset-done-sent = If an account uses that address, we have sent it a new password that works for one hour.
reset-done-keeps = Your current password keeps working until you sign in with the new one.

password-change-title = Change password
password-change-heading = Change your password
password-change-required = You signed in with a generated password. Please choose a password of your own to continue.
password-change-old = Current password
password-change-new = New password
password-change-new-again = New password again
password-change-submit = Change password

email-change-title = Change email
email-change-heading = Change your email address
email-change-lead = We will send a link to the new address; nothing changes until you open it.
email-change-new = New email
email-change-password = Current password
email-change-submit = Send confirmation link
email-confirm-heading = Confirm your new email address
email-confirm-text = Make { $email } the address of your account.
email-confirm-button = Confirm this address
email-link-expired-title = Link expired
email-link-expired = The confirmation link has expired: links work for three days. Request the change again.
email-link-invalid-title = Link not valid
email-link-invalid = The confirmation link is not valid. Perhaps it was copied incompletely.
email-link-used-title = Link already used
email-link-used = This change was confirmed already, or a newer request replaced it.
email-link-taken-title = Address taken
email-link-taken = Another account uses this address now, so it cannot become yours.

profile-title = Profile
profile-heading = Your profile
profile-signed-in-as = Signed in as
profile-change-email = Change email
profile-change-password = Change password
profile-first-name = First name
profile-last-name = Last name
profile-country = Country
profile-phone = Phone
profile-phone-help = In international form (+7 912 345-67-89), or national form for the country above.
profile-avatar = Avatar
profile-avatar-current = Your current avatar
profile-language = Language of the site and of our emails
profile-submit = Save profile

products-title = Products
products-heading = Products
products-new = New product
products-empty = There are no products yet.
products-create-first = Create the first one
products-sign-in = Sign in
products-sign-in-to-add = to add one.
products-total = { $count ->
    [one] { $count } product, newest first.
   *[other] { $count } products, newest first.
  }
products-count = { $count ->
    [one] { $count } product
   *[other] { $count } products
  }
products-pages = Pages
products-previous = Previous
products-next = Next
products-page-of = Page { $page } of { $pages }
products-search = Search products
products-search-label = Words to look for
products-search-help = All words must appear. Put a phrase in quotes; put a minus before a word to leave it out.
products-search-submit = Search
products-filters = Filters
products-filter-category = Category
products-filter-any-category = All categories
products-filter-min-price = Lowest price
products-filter-max-price = Highest price
products-filter-mine = Only my products, drafts included
products-filter-status = State
products-filter-any-status = Any state
products-filter-published = Published
products-filter-unpublished = Unpublished
products-filter-locked = Unpublished by a moderator
products-sort = Order
products-sort-new = Newest first
products-sort-relevance = Best match first
products-sort-price = Cheapest first
products-sort-price-descending = Dearest first
products-sort-name = By name
products-filters-clear = Clear the filters
products-found = { $count ->
    [one] { $count } product found.
   *[other] { $count } products found.
  }
products-no-match = No product matches. Try fewer words or other filters.
products-in-category = Products in { $category }
categories-title = Categories
categories-heading = Categories
categories-empty = There are no categories yet.
product-image-original = Download the original image
product-unpublished = Unpublished
product-unpublished-by-moderator = Unpublished by a moderator
product-all = ← All products
product-price = Price
product-category = Category
product-owner = Owner
product-added = Added
product-versions = Versions
product-no-versions = No versions yet.
product-version-number = Number
product-version-name = Name
product-version-current = Current
product-edit = Edit
product-delete = Delete

product-form-new = New product
product-form-create = Create product
product-form-edit = Edit { $name }
product-form-save = Save product
product-form-cancel = Cancel
product-form-rows-invalid = Please correct the versions below.
product-form-name = Name
product-form-description = Description
product-form-category = Category
product-form-choose-category = Choose a category…
product-form-price = Price
product-form-price-help = A non-negative amount with up to two decimals, such as 199.99.
product-form-image = Image
product-form-image-current = The current image
product-form-published = Published
product-form-versions = Versions
product-form-version-number = Number
product-form-version-name = Name
product-form-version-current = Current
product-form-version-remove = Remove
product-form-version-number-label = Version number
product-form-version-number-new-label = Version number (new)
product-form-version-name-label = Version name
product-form-version-current-label = Current version
product-form-version-remove-label = Remove this version
product-form-no-current = No current version
product-form-versions-help = Fill in the empty row to add a version. Marking a version current makes the previous one no longer current.
product-delete-heading = Delete { $name }?
product-delete-text = The product, its image and its versions will be removed for good.
product-delete-button = Delete product
